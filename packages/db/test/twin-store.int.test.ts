/**
 * The twin store contract on PGlite and, when DATABASE_URL is set, on PostgreSQL. Twins live in
 * the identity rows, so the registry store of the same database creates the devices.
 */

import { describe, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Until @tributary/core/testing exports it (see the wiring notes), the contract is imported from its file.
import { twinStoreContract } from '@tributary/core/testing';
import { createTemporaryPostgresDatabase, openDb } from '../src/index.ts';
import { DrizzleTwinStore } from '../src/stores/twin-store.ts';

twinStoreContract('pglite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-twins-'));
  const opened = await openDb({ dataDir });
  return {
    registry: opened.stores.registry,
    twins: new DrizzleTwinStore(opened.db),
    async close() {
      await opened.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

const baseUrl = process.env.DATABASE_URL;

if (baseUrl) {
  twinStoreContract('postgres', async () => {
    const database = await createTemporaryPostgresDatabase(baseUrl, 'twins');
    const opened = await openDb({ dataDir: '', databaseUrl: database.url });
    return {
      registry: opened.stores.registry,
      twins: new DrizzleTwinStore(opened.db),
      async close() {
        await opened.close();
        await database.drop();
      },
    };
  });
} else {
  // Skipped loudly: CI always sets DATABASE_URL, a developer may not.
  describe('twin store contract: postgres', () => {
    test.skip('SKIPPED: set DATABASE_URL=postgres://… to run the twin store contract on PostgreSQL', () => {});
  });
}
