/**
 * @tributary/db: the Drizzle schema, the committed migrations and the stores implementing core's
 * ports, on embedded PGlite or PostgreSQL. Test support is in `@tributary/db/testing`.
 * @module
 */

export { openDb, type OpenDbOptions, type OpenedDatabase } from './open-db.ts';
export { MIGRATIONS_FOLDER } from './migrations.ts';
export type { HubDatabase } from './database.ts';
export { DrizzleFileStore } from './stores/file-store.ts';
