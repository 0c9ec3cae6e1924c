/**
 * Opens the hub's database: embedded PGlite in `<dataDir>/pglite` by default (open-pglite.ts),
 * PostgreSQL when a `databaseUrl` is given (open-postgres.ts). Runs migrations, then returns the
 * stores core needs. Only the storage in use has its driver loaded.
 * @module
 */

import type { HubStores, IdentityChangeFeed } from '@tributary/core';
import type { HubDatabase } from './database.ts';

export interface OpenDbOptions {
  /** Directory for the embedded database (`<dataDir>/pglite`); created when missing. */
  dataDir: string;
  /** `postgres://…`: use PostgreSQL instead of PGlite. */
  databaseUrl?: string;
  /** PostgreSQL connection pool size. */
  maxConnections?: number;
  /** Told when PGlite's periodic VACUUM (pglite-vacuum.ts) fails; the next one tries again. */
  onVacuumFailed?: (error: unknown) => void;
}

export interface OpenedDatabase {
  kind: 'pglite' | 'postgres';
  /** Statements the database runs at once: 1 for PGlite (one embedded connection), the pool size for PostgreSQL. */
  connections: number;
  db: HubDatabase;
  stores: HubStores;
  /**
   * Registry changes other hubs on the same database made (PostgreSQL only): PGlite is one
   * process's database, so a hub on it invalidates its own writes directly.
   */
  identityChanges?: IdentityChangeFeed;
  close(): Promise<void>;
}

export async function openDb(options: OpenDbOptions): Promise<OpenedDatabase> {
  if (options.databaseUrl) {
    const { openPostgres } = await import('./open-postgres.ts');
    return openPostgres(options.databaseUrl, options.maxConnections ?? 10);
  }
  const { openPglite } = await import('./open-pglite.ts');
  return openPglite(options.dataDir, { onVacuumFailed: options.onVacuumFailed });
}
