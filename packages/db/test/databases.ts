/**
 * The databases every store test runs on: embedded PGlite in a temporary directory, and a fresh
 * PostgreSQL database on the server named by DATABASE_URL (skipped loudly without it). Each
 * `open()` migrates a new, empty database through the production path (openDb).
 * @module
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'bun:test';
import type { HubStores } from '@tributary/core';
import { openDb } from '../src/index.ts';
import { createTemporaryPostgresDatabase } from '../src/testing.ts';

export interface TestDatabase {
  stores: HubStores;
  close(): Promise<void>;
}

export type DatabaseName = 'pglite' | 'postgres';

async function openPglite(): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-store-'));
  const opened = await openDb({ dataDir });
  return {
    stores: opened.stores,
    async close() {
      await opened.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(baseUrl: string): Promise<TestDatabase> {
  const database = await createTemporaryPostgresDatabase(baseUrl, 'store');
  const opened = await openDb({ dataDir: '', databaseUrl: database.url });
  return {
    stores: opened.stores,
    async close() {
      await opened.close();
      await database.drop();
    },
  };
}

/** Calls `register` once per database with a way to open a fresh one. */
export function forEachDatabase(register: (name: DatabaseName, open: () => Promise<TestDatabase>) => void): void {
  register('pglite', openPglite);
  const baseUrl = process.env.DATABASE_URL;
  if (baseUrl) {
    register('postgres', () => openPostgres(baseUrl));
  } else {
    describe('store contracts on postgres', () => {
      test.skip('SKIPPED: set DATABASE_URL=postgres://… to run the store contracts on PostgreSQL', () => {});
    });
  }
}
