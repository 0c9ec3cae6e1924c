/**
 * The embedded database: PGlite in `<dataDir>/pglite`, a fresh directory starting as a copy of
 * the cached template (pglite-template.ts) instead of running initdb. Loaded by openDb only for
 * a hub on PGlite, so a PostgreSQL hub never loads PGlite's WASM module. It vacuums itself
 * (pglite-vacuum.ts): single-user PostgreSQL has no autovacuum.
 * @module
 */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle, type PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import * as schema from './schema/index.ts';
import type { HubDatabase } from './database.ts';
import { MIGRATIONS_FOLDER } from './migrations.ts';
import type { OpenedDatabase } from './open-db.ts';
import { copyPgliteTemplate, ensurePgliteTemplate, isDirectory } from './pglite-template.ts';
import { startPgliteVacuum } from './pglite-vacuum.ts';
import { createStores } from './stores/index.ts';

/**
 * PGlite's own start parameters (its durability settings stay as they are) with a smaller
 * footprint, since PGlite initialises all of its shared memory when it starts:
 * - a 4 MB buffer pool instead of the 128 MB initdb writes into postgresql.conf: idle RSS grows
 *   with it one for one, and 128 MB also grows the WASM memory past its 128 MiB minimum. The data
 *   files sit in the OS page cache anyway: appends, event reads and 20 MB table scans measured
 *   the same at 4 MB and 128 MB;
 * - lock, predicate-lock and process tables for 4 backends instead of 100: PGlite has exactly
 *   one (4 MiB less WASM memory touched).
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=4MB', '-c', 'max_connections=4'];

export async function openPglite(dataDir: string, options: { onVacuumFailed?: (error: unknown) => void } = {}): Promise<OpenedDatabase> {
  await mkdir(dataDir, { recursive: true });
  const directory = join(dataDir, 'pglite');
  if (!(await isDirectory(directory))) {
    const template = await ensurePgliteTemplate();
    if (template) await copyPgliteTemplate(template, directory);
  }
  const client = await PGlite.create(directory, { startParams: PGLITE_START_PARAMS });
  const db = drizzle(client, { schema });
  // A no-op on a data dir copied from the current template; brings older data dirs up to date.
  await migrateOnPglite(db);
  const vacuum = startPgliteVacuum(client, { onFailure: options.onVacuumFailed });
  return {
    kind: 'pglite',
    connections: 1,
    db: db as unknown as HubDatabase,
    stores: createStores(db as unknown as HubDatabase),
    close: async () => {
      await vacuum.stop();
      await client.close();
    },
  };
}

/** Another `migrationsFolder` only for the template tests, which build templates of altered copies. */
export async function migrateOnPglite(db: PgliteDatabase<Record<string, unknown>>, migrationsFolder = MIGRATIONS_FOLDER): Promise<void> {
  await migrate(db, { migrationsFolder });
}
