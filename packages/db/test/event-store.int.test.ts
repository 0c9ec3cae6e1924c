/**
 * The event store contract on PGlite (temporary data dir) and on PostgreSQL (a throw-away
 * database on the server named by DATABASE_URL; skipped loudly without it).
 */

import { describe, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventStoreContract } from '@tributary/core/testing';
import { createTemporaryPostgresDatabase, openDb } from '../src/index.ts';
import { DrizzleEventStore } from '../src/stores/event-store.ts';

eventStoreContract('pglite', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-events-'));
  const opened = await openDb({ dataDir });
  return {
    store: new DrizzleEventStore(opened.db),
    async close() {
      await opened.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
});

const baseUrl = process.env.DATABASE_URL;

if (baseUrl) {
  eventStoreContract('postgres', async () => {
    const database = await createTemporaryPostgresDatabase(baseUrl, 'events');
    const opened = await openDb({ dataDir: '', databaseUrl: database.url });
    return {
      store: new DrizzleEventStore(opened.db),
      async close() {
        await opened.close();
        await database.drop();
      },
    };
  });
} else {
  // Skipped loudly: CI always sets DATABASE_URL, a developer may not.
  describe('event store contract: postgres', () => {
    test.skip('SKIPPED: set DATABASE_URL=postgres://… to run the event store contract on PostgreSQL', () => {});
  });
}
