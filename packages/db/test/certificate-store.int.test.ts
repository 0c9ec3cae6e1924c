/**
 * The CA certificate store contract on PGlite and on PostgreSQL (from DATABASE_URL; skipped
 * loudly without it), each on a fresh migrated database through the production openDb path.
 */

import { describe, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateStoreContract } from '@tributary/core/testing';
import { createTemporaryPostgresDatabase, openDb } from '../src/index.ts';
import { DrizzleCertificateStore } from '../src/stores/certificate-store.ts';

certificateStoreContract('pglite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-certificates-'));
  const opened = await openDb({ dataDir });
  return {
    store: new DrizzleCertificateStore(opened.db),
    async close() {
      await opened.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

const baseUrl = process.env.DATABASE_URL;

if (baseUrl) {
  certificateStoreContract('postgres', async () => {
    const database = await createTemporaryPostgresDatabase(baseUrl, 'certificates');
    const opened = await openDb({ dataDir: '', databaseUrl: database.url });
    return {
      store: new DrizzleCertificateStore(opened.db),
      async close() {
        await opened.close();
        await database.drop();
      },
    };
  });
} else {
  // Skipped loudly: CI always sets DATABASE_URL, a developer may not.
  describe('certificate store contract: postgres', () => {
    test.skip('SKIPPED: set DATABASE_URL=postgres://… to run the certificate store contract on PostgreSQL', () => {});
  });
}
