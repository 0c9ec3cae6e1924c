/**
 * @tributary/db/testing: what tests need beside the hub's own API: a throwaway database on a
 * PostgreSQL server.
 * @module
 */

export { createTemporaryPostgresDatabase, type TemporaryDatabase } from './temporary-database.ts';
