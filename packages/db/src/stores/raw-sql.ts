/**
 * What stores need for SQL drizzle's builder cannot express (`db.execute`): reading the rows,
 * which postgres.js answers as an array and PGlite as `{rows}`, and passing bytes inside a JSON
 * parameter (`json_to_recordset`), which both drivers bind alike. And, for the hottest
 * statements, running constant SQL on the driver itself (`driverStatements`).
 * @module
 */

import type { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Sql } from 'postgres';
import type { HubDatabase } from '../database.ts';

export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Bytes as base64 text, for `decode(…, 'base64')` on the database side. */
export const base64Of = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/** Base64 text the database built (`encode(…, 'base64')`, line breaks skipped) as a plain Uint8Array, like every store hands out. */
export function bytesOfBase64(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Runs constant SQL text with `$n` parameters on the driver; rows come back as arrays. */
export type DriverStatement = (text: string, params: Array<number | string>, options?: { prepare?: boolean }) => Promise<unknown[][]>;

/**
 * Statements run on the database's driver, past drizzle's query building and row mapping. With
 * `prepare`, postgres.js keeps the statement prepared on each pooled connection, so every later
 * run is one round trip (Bind, Execute, Sync). Without it, postgres.js, like drizzle's
 * `db.execute`, sends Parse and Describe first and the Bind only once the parameter types come
 * back: two round trips, and the second waits for the hub's event loop, which under load is busy.
 * Use `prepare` only for constant text, never for text that varies with the input. PGlite runs
 * each statement as it comes.
 */
export function driverStatements(db: HubDatabase): DriverStatement {
  const client = (db as unknown as { $client: unknown }).$client;
  if (typeof (client as Partial<Sql>).unsafe === 'function') {
    const sql = client as Sql;
    return async (text, params, options) => (await sql.unsafe(text, params, { prepare: options?.prepare ?? false }).values()) as unknown as unknown[][];
  }
  if (typeof (client as Partial<PGlite>).query === 'function') {
    const pglite = client as PGlite;
    return async (text, params) => (await pglite.query<unknown[]>(text, params, { rowMode: 'array' })).rows;
  }
  throw new Error('driver statements need a postgres.js or PGlite client');
}

const dialect = new PgDialect();

/**
 * The constant text of a statement written with drizzle's `sql` (tables and shared fragments
 * rendered once), for `driverStatements`; its parameters are written `sql.raw('$1')`, never
 * interpolated values.
 */
export function statementText(query: SQL): string {
  const { sql: text, params } = dialect.sqlToQuery(query);
  if (params.length > 0) throw new Error('a driver statement takes its parameters as $n, not interpolated values');
  return text;
}
