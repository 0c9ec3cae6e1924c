/**
 * @tributary/db: the Drizzle schema, the committed migrations and the stores implementing core's
 * ports, on embedded PGlite or PostgreSQL.
 * @module
 */

export { openDb, type OpenDbOptions, type OpenedDatabase } from './open-db.ts';
export { MIGRATIONS_FOLDER } from './migrate.ts';
export { postgresIdentityChangeFeed } from './identity-change-feed.ts';
export type { HubDatabase } from './database.ts';
export { createTemporaryPostgresDatabase, type TemporaryDatabase } from './temporary-database.ts';
export { DrizzleFileStore } from './stores/file-store.ts';
