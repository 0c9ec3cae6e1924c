/**
 * PGlite templates (pglite-template.ts): keyed by the migrations, built once per key in a child
 * process, ignored when the migrations differ, skipped when the cache cannot be written; and
 * openDb gives a fresh data dir a copy of the current template while opening an existing one as
 * it is. A copy is recognised by its system identifier, which initdb draws at random.
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { MIGRATIONS_FOLDER, openDb } from '../src/index.ts';
import { copyPgliteTemplate, ensurePgliteTemplate, pgliteTemplateKey } from '../src/pglite-template.ts';

/** initdb plus every migration, in a child process, on a shared two-core machine. */
const BUILD_TIMEOUT_MS = 60_000;

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'tributary-template-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function copyOfMigrations(name: string): Promise<string> {
  const folder = join(scratch, name);
  await cp(MIGRATIONS_FOLDER, folder, { recursive: true });
  return folder;
}

/** Adds a migration that creates `table`, as `drizzle-kit generate` would. */
async function addMigration(folder: string, table: string): Promise<void> {
  const journalPath = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { idx: number; when: number; tag: string }[] };
  const last = journal.entries.at(-1)!;
  const tag = `${String(last.idx + 1).padStart(4, '0')}_${table}`;
  journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag });
  await writeFile(join(folder, `${tag}.sql`), `CREATE TABLE "${table}" ("id" integer PRIMARY KEY);`);
  await writeFile(journalPath, JSON.stringify(journal, null, 2));
}

/** initdb's random system identifier, the first field of pg_control. */
async function systemIdentifier(pgdata: string): Promise<string> {
  return (await readFile(join(pgdata, 'global', 'pg_control'))).subarray(0, 8).toString('hex');
}

describe('PGlite templates', () => {
  test('the key stays while the migrations stay, and changes with any migration file', async () => {
    const folder = await copyOfMigrations('key');
    const key = await pgliteTemplateKey(folder);
    expect(await pgliteTemplateKey(folder)).toBe(key);

    const [firstSql] = (await readdir(folder)).filter((name) => name.endsWith('.sql')).sort();
    await appendFile(join(folder, firstSql!), '\n-- an edited migration\n');
    const editedKey = await pgliteTemplateKey(folder);
    expect(editedKey).not.toBe(key);

    await addMigration(folder, 'one_more');
    expect(await pgliteTemplateKey(folder)).not.toBe(editedKey);
  });

  test(
    'a template is built once for its migrations and then reused as it is',
    async () => {
      const options = { cacheDir: join(scratch, 'cache-reuse'), migrationsFolder: await copyOfMigrations('reuse') };
      const template = await ensurePgliteTemplate(options);
      expect(template).toBe(join(options.cacheDir, await pgliteTemplateKey(options.migrationsFolder)));
      const identifier = await systemIdentifier(template!);

      expect(await ensurePgliteTemplate(options)).toBe(template);
      expect(await systemIdentifier(template!)).toBe(identifier);
      expect(await readdir(options.cacheDir)).toEqual([await pgliteTemplateKey(options.migrationsFolder)]);
    },
    BUILD_TIMEOUT_MS,
  );

  test(
    'a template of other migrations is ignored: the new migrations get a template with them applied',
    async () => {
      const cacheDir = join(scratch, 'cache-changed');
      // Stands in for the committed migrations' template; a template is never opened in place.
      const before = join(cacheDir, await pgliteTemplateKey(MIGRATIONS_FOLDER));
      await mkdir(before, { recursive: true });
      const changedFolder = await copyOfMigrations('changed');
      await addMigration(changedFolder, 'template_marker');

      const after = await ensurePgliteTemplate({ cacheDir, migrationsFolder: changedFolder });
      expect(after).toBe(join(cacheDir, await pgliteTemplateKey(changedFolder)));
      expect(after).not.toBe(before);
      const pgdata = join(scratch, 'opened-changed');
      await copyPgliteTemplate(after!, pgdata);
      const client = await PGlite.create(pgdata);
      try {
        const { rows } = await client.query<{ marker: string | null }>(`select to_regclass('template_marker')::text as marker`);
        expect(rows).toEqual([{ marker: 'template_marker' }]);
      } finally {
        await client.close();
      }
    },
    BUILD_TIMEOUT_MS,
  );

  test('without a writable cache directory there is no template (the data dir is then initialised in place)', async () => {
    const file = join(scratch, 'not-a-directory');
    await writeFile(file, '');
    expect(await ensurePgliteTemplate({ cacheDir: join(file, 'cache'), migrationsFolder: MIGRATIONS_FOLDER })).toBeUndefined();
  });
});

describe('openDb on PGlite', () => {
  test(
    'a fresh data dir starts as a copy of the current template, and an existing one is opened as it is',
    async () => {
      const dataDir = join(scratch, 'hub-data');
      const first = await openDb({ dataDir });
      await first.db.execute(sql`create table kept_between_opens (id integer)`);
      await first.close();
      const template = await ensurePgliteTemplate();
      expect(await systemIdentifier(join(dataDir, 'pglite'))).toBe(await systemIdentifier(template!));

      const second = await openDb({ dataDir });
      try {
        const result = await second.db.execute(sql`select to_regclass('kept_between_opens')::text as kept`);
        expect((result as unknown as { rows: unknown[] }).rows).toEqual([{ kept: 'kept_between_opens' }]);
      } finally {
        await second.close();
      }
    },
    BUILD_TIMEOUT_MS,
  );
});
