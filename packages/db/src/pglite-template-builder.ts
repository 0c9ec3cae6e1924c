/**
 * Child-process entry that builds one PGlite template (pglite-template.ts): initdb and every
 * migration into an empty directory. It runs apart from the hub because initdb runs a second
 * PGlite and WASM module whose memory a process does not give back (run inside the hub, it
 * stayed resident at several hundred MiB); here it goes when the child exits.
 *
 *   bun pglite-template-builder.ts <empty directory> <migrations folder>
 * @module
 */

import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrateOnPglite } from './open-pglite.ts';

const [directory, migrationsFolder] = process.argv.slice(2);
if (!directory || !migrationsFolder) {
  console.error('usage: bun pglite-template-builder.ts <empty directory> <migrations folder>');
  process.exit(2);
}
const client = await PGlite.create(directory);
await migrateOnPglite(drizzle(client), migrationsFolder);
await client.close();
