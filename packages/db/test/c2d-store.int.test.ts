/**
 * The C2D store contract on PGlite and on PostgreSQL (DATABASE_URL; skipped loudly without it),
 * including 80 parallel sends to one device against the depth limit of 50. Stores are built on
 * `openDb(...).db` directly, beside the registry store that creates the devices.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'bun:test';
import { c2dStoreContract, type OpenedC2dStores } from '@tributary/core/testing';
import { createTemporaryPostgresDatabase, openDb, type OpenedDatabase } from '../src/index.ts';
import { DrizzleC2dStore } from '../src/stores/c2d-store.ts';
import { DrizzleRegistryStore } from '../src/stores/registry-store.ts';

function storesOn(opened: OpenedDatabase, cleanUp: () => Promise<void>): OpenedC2dStores {
  return {
    c2d: new DrizzleC2dStore(opened.db),
    registry: new DrizzleRegistryStore(opened.db),
    async close() {
      await opened.close();
      await cleanUp();
    },
  };
}

c2dStoreContract('pglite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-c2d-'));
  return storesOn(await openDb({ dataDir }), () => rm(dataDir, { recursive: true, force: true }));
});

const baseUrl = process.env.DATABASE_URL;
if (baseUrl) {
  c2dStoreContract('postgres', async () => {
    const database = await createTemporaryPostgresDatabase(baseUrl, 'c2d');
    return storesOn(await openDb({ dataDir: '', databaseUrl: database.url }), () => database.drop());
  });
} else {
  // Skipped loudly: CI always sets DATABASE_URL, a developer may not.
  describe('c2d store contract: postgres', () => {
    test.skip('SKIPPED: set DATABASE_URL=postgres://… to run the C2D store contract on PostgreSQL', () => {});
  });
}
