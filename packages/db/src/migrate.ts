/**
 * Applies the one committed migrations folder (`packages/db/drizzle`) to PGlite or PostgreSQL at
 * start. On PostgreSQL an advisory lock serialises hubs that start together on one database.
 * @module
 */

import { fileURLToPath } from 'node:url';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { Sql } from 'postgres';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../drizzle', import.meta.url));

/** Any number; the same for every hub, so concurrent starts wait for each other. */
const MIGRATION_LOCK_ID = 7_361_244_105;

/** Another `migrationsFolder` only for the template tests, which build templates of altered copies. */
export async function migrateOnPglite(db: PgliteDatabase<Record<string, unknown>>, migrationsFolder = MIGRATIONS_FOLDER): Promise<void> {
  await migratePglite(db, { migrationsFolder });
}

export async function migrateOnPostgres(db: PostgresJsDatabase<Record<string, unknown>>, sql: Sql): Promise<void> {
  // The lock is held by one reserved connection; the migration itself runs on the pool.
  const connection = await sql.reserve();
  try {
    await connection`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migratePostgres(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await connection`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
    connection.release();
  }
}
