#!/usr/bin/env bun
/**
 * Regenerates the migration that has not landed yet from the whole current schema, so several
 * schema changes made during one piece of work end up in one descriptively named migration.
 * Migrations up to and including LANDED stay untouched: never edit a migration after it landed.
 *
 *   bun scripts/regenerate-pending-migration.ts <descriptive_name>
 */

import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The newest migration that is on main; raise it when a migration lands. */
const LANDED = 4;

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: bun scripts/regenerate-pending-migration.ts <descriptive_name in snake_case>');
  process.exit(2);
}
const root = new URL('..', import.meta.url).pathname;
const drizzle = join(root, 'drizzle');
const isPending = (file: string) => Number(file.slice(0, 4)) > LANDED;

for (const file of (await readdir(drizzle)).filter((f) => /^\d{4}_.*\.sql$/.test(f) && isPending(f))) {
  await rm(join(drizzle, file));
}
for (const file of (await readdir(join(drizzle, 'meta'))).filter((f) => /^\d{4}_snapshot\.json$/.test(f) && isPending(f))) {
  await rm(join(drizzle, 'meta', file));
}
const journalPath = join(drizzle, 'meta', '_journal.json');
const journal = await Bun.file(journalPath).json();
journal.entries = journal.entries.filter((entry: { idx: number }) => entry.idx <= LANDED);
await Bun.write(journalPath, JSON.stringify(journal, null, 2));

const generate = Bun.spawn(['bunx', '--bun', 'drizzle-kit', 'generate', '--name', name], { cwd: root, stdout: 'inherit', stderr: 'inherit' });
process.exit(await generate.exited);
