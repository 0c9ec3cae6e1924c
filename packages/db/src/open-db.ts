/**
 * Opens the hub's database: embedded PGlite in `<dataDir>/pglite` by default, PostgreSQL when a
 * `databaseUrl` is given. Runs migrations, then returns the stores core needs.
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

async function openPglite(dataDir: string): Promise<OpenedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const client = await PGlite.create(join(dataDir, 'pglite'));
  const db = drizzlePglite(client, { schema });
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
