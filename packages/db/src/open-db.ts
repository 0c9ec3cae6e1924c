/**
 * Opens the hub's database: embedded PGlite in `<dataDir>/pglite` by default, PostgreSQL when a
 * `databaseUrl` is given. Runs migrations, then returns the stores core needs. A fresh PGlite
 * data dir starts as a copy of the cached template (pglite-template.ts) instead of running initdb.
 * @module
 */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { HubStores } from '@tributary/core';
import * as schema from './schema/index.ts';
import type { HubDatabase } from './database.ts';
import { migrateOnPglite, migrateOnPostgres } from './migrate.ts';
import { copyPgliteTemplate, ensurePgliteTemplate, isDirectory } from './pglite-template.ts';
import { createStores } from './stores/index.ts';

export interface OpenDbOptions {
  /** Directory for the embedded database (`<dataDir>/pglite`); created when missing. */
  dataDir: string;
  /** `postgres://…`: use PostgreSQL instead of PGlite. */
  databaseUrl?: string;
  /** PostgreSQL connection pool size. */
  maxConnections?: number;
}

export interface OpenedDatabase {
  kind: 'pglite' | 'postgres';
  /** Statements the database runs at once: 1 for PGlite (one embedded connection), the pool size for PostgreSQL. */
  connections: number;
  db: HubDatabase;
  stores: HubStores;
  close(): Promise<void>;
}

export async function openDb(options: OpenDbOptions): Promise<OpenedDatabase> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.maxConnections ?? 10) : openPglite(options.dataDir);
}

/**
 * PGlite's own start parameters (its durability settings stay as they are) with a 4 MB buffer
 * pool instead of the 128 MB initdb writes into postgresql.conf. PGlite zeroes all of
 * shared_buffers when it starts, so idle RSS grows with it one for one, and 128 MB also grows the
 * WASM memory past its 128 MiB minimum. The data files sit in the OS page cache anyway: appends,
 * event reads and 20 MB table scans measured the same at 4 MB and 128 MB.
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=4MB'];

async function openPglite(dataDir: string): Promise<OpenedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const directory = join(dataDir, 'pglite');
  if (!(await isDirectory(directory))) {
    const template = await ensurePgliteTemplate();
    if (template) await copyPgliteTemplate(template, directory);
  }
  const client = await PGlite.create(directory, { startParams: PGLITE_START_PARAMS });
  const db = drizzlePglite(client, { schema });
  // A no-op on a data dir copied from the current template; brings older data dirs up to date.
  await migrateOnPglite(db);
  return {
    kind: 'pglite',
    connections: 1,
    db: db as unknown as HubDatabase,
    stores: createStores(db as unknown as HubDatabase),
    close: () => client.close(),
  };
}

async function openPostgres(databaseUrl: string, maxConnections: number): Promise<OpenedDatabase> {
  const sql = postgres(databaseUrl, { max: maxConnections, onnotice: () => {} });
  try {
    const db = drizzlePostgres(sql, { schema });
    await migrateOnPostgres(db, sql);
    return {
      kind: 'postgres',
      connections: maxConnections,
      db: db as unknown as HubDatabase,
      stores: createStores(db as unknown as HubDatabase),
      close: () => sql.end({ timeout: 5 }),
    };
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw error;
  }
}
