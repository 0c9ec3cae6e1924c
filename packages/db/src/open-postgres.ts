/**
 * PostgreSQL through postgres.js: the pool, migrations serialised across hubs, and the identity
 * change feed hubs on one database share. Loaded by openDb only for a hub on PostgreSQL.
 * @module
 */

import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres, { type Sql } from 'postgres';
import * as schema from './schema/index.ts';
import type { HubDatabase } from './database.ts';
import { postgresIdentityChangeFeed } from './identity-change-feed.ts';
import { MIGRATIONS_FOLDER } from './migrations.ts';
import type { OpenedDatabase } from './open-db.ts';
import { createStores } from './stores/index.ts';

/** Any number; the same for every hub, so concurrent starts wait for each other. */
const MIGRATION_LOCK_ID = 7_361_244_105;

export async function openPostgres(databaseUrl: string, maxConnections: number): Promise<OpenedDatabase> {
  const sql = postgres(databaseUrl, { max: maxConnections, onnotice: () => {} });
  try {
    const db = drizzle(sql, { schema });
    await migrateOnPostgres(db, sql);
    return {
      kind: 'postgres',
      connections: maxConnections,
      db: db as unknown as HubDatabase,
      stores: createStores(db as unknown as HubDatabase),
      identityChanges: postgresIdentityChangeFeed(databaseUrl),
      close: () => sql.end({ timeout: 5 }),
    };
  } catch (error) {
    await sql.end({ timeout: 1 });
    throw error;
  }
}

async function migrateOnPostgres(db: PostgresJsDatabase<Record<string, unknown>>, sql: Sql): Promise<void> {
  // The lock is held by one reserved connection; the migration itself runs on the pool.
  const connection = await sql.reserve();
  try {
    await connection`select pg_advisory_lock(${MIGRATION_LOCK_ID})`;
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  } finally {
    await connection`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`;
    connection.release();
  }
}
