/**
 * What stores need for SQL drizzle's builder cannot express (`db.execute`): reading the rows,
 * which postgres.js answers as an array and PGlite as `{rows}`, and passing bytes inside a JSON
 * parameter (`json_to_recordset`), which both drivers bind alike.
 * @module
 */

export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** Bytes as base64 text, for `decode(…, 'base64')` on the database side. */
export const base64Of = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
