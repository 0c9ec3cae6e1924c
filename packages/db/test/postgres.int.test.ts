import { describe, test } from 'bun:test';
import { storeContract } from '@tributary/core/testing';
import { createTemporaryPostgresDatabase, openDb } from '../src/index.ts';

const baseUrl = process.env.DATABASE_URL;

if (baseUrl) {
  storeContract('postgres', async () => {
    const database = await createTemporaryPostgresDatabase(baseUrl, 'contract');
    const opened = await openDb({ dataDir: '', databaseUrl: database.url });
    return {
      stores: opened.stores,
      async close() {
        await opened.close();
        await database.drop();
      },
    };
  });
} else {
  // Skipped loudly: CI always sets DATABASE_URL, a developer may not.
  describe('store contract: postgres', () => {
    test.skip('SKIPPED: set DATABASE_URL=postgres://… to run the store contract on PostgreSQL', () => {});
  });
}
