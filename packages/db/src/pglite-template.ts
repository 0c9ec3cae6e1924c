/**
 * Pre-initialised, pre-migrated PGlite data directories ("templates"), cached once per machine and
 * checkout, so a hub on a fresh data dir copies ~40 MB of files instead of running initdb and every
 * migration (2.5 s and about 1 GB of peak memory in PGlite 0.5). A template is keyed by a hash of
 * what shapes its files: the PGlite version, the builder and the migrations folder; a hub whose
 * migrations differ never sees another key's template. Opening the database stays openDb's job.
 * @module
 */

import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS_FOLDER } from './migrations.ts';

export interface PgliteTemplateOptions {
  /** Where templates live, one directory per key. */
  cacheDir: string;
  /** The migrations every template has applied. */
  migrationsFolder: string;
}

/**
 * Beside the package's dependencies: a per-checkout cache that `bun install` keeps (its
 * postinstall builds the template) and that goes away with node_modules.
 */
export const DEFAULT_PGLITE_TEMPLATE_OPTIONS: PgliteTemplateOptions = {
  cacheDir: fileURLToPath(new URL('../node_modules/.cache/pglite-templates', import.meta.url)),
  migrationsFolder: MIGRATIONS_FOLDER,
};

const BUILDER = fileURLToPath(new URL('./pglite-template-builder.ts', import.meta.url));

/** Other keys' templates, and builds a crashed process left behind, go once they are this old. */
const STALE_ENTRY_MS = 60 * 60 * 1000;

/** A hash of the PGlite version, the builder's source and every migration file with its journal. */
export async function pgliteTemplateKey(migrationsFolder: string): Promise<string> {
  const pglitePackage = fileURLToPath(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')));
  const { version } = JSON.parse(await readFile(pglitePackage, 'utf8')) as { version: string };
  const migrations = (await readdir(migrationsFolder)).filter((name) => name.endsWith('.sql')).sort();
  const hash = createHash('sha256').update(`pglite ${version}\n`).update(await readFile(BUILDER));
  for (const name of [...migrations, join('meta', '_journal.json')]) {
    hash.update(`\n${name}\n`).update(await readFile(join(migrationsFolder, name)));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The template for these migrations, built first when missing (in a child process, so initdb's
 * memory is returned when it exits). Undefined when the cache directory cannot be written, e.g. a
 * read-only install: the caller then lets PGlite initialise the data dir in place.
 */
export async function ensurePgliteTemplate(options: PgliteTemplateOptions = DEFAULT_PGLITE_TEMPLATE_OPTIONS): Promise<string | undefined> {
  const key = await pgliteTemplateKey(options.migrationsFolder);
  const template = join(options.cacheDir, key);
  if (await isDirectory(template)) return template;
  let building: string;
  try {
    await mkdir(options.cacheDir, { recursive: true });
    building = await mkdtemp(join(options.cacheDir, `${key}.building-`));
  } catch {
    return undefined;
  }
  try {
    await runBuilder(building, options.migrationsFolder);
    // Atomic: readers see a complete template or none. Fails when a concurrent build won.
    await rename(building, template);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (!(await isDirectory(template))) throw error;
  }
  await removeStaleEntries(options.cacheDir, key);
  return template;
}

/**
 * Gives `directory` (which must not exist) a copy of `template`, through a sibling that is renamed
 * into place, so a crash mid-copy never leaves a half-copied database where a hub would open it.
 */
export async function copyPgliteTemplate(template: string, directory: string): Promise<void> {
  const partial = `${directory}.partial`;
  await rm(partial, { recursive: true, force: true });
  await copyTree(template, partial);
  await rename(partial, directory);
}

async function runBuilder(directory: string, migrationsFolder: string): Promise<void> {
  const child = Bun.spawn([process.execPath, BUILDER, directory, migrationsFolder], { stdout: 'ignore', stderr: 'pipe' });
  const [code, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()]);
  if (code !== 0) throw new Error(`building the PGlite template failed (exit ${code}): ${stderr.trim()}`);
}

/** Copies files in parallel: file creation dominates (about 1,000 files), not bytes. */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to);
  const entries = await readdir(from, { withFileTypes: true });
  await Promise.all(
    entries.map((entry) =>
      entry.isDirectory()
        ? copyTree(join(from, entry.name), join(to, entry.name))
        : copyFile(join(from, entry.name), join(to, entry.name), constants.COPYFILE_FICLONE),
    ),
  );
}

async function removeStaleEntries(cacheDir: string, key: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(cacheDir)) {
    if (name === key) continue;
    const path = join(cacheDir, name);
    // Another process may be removing the same entry.
    const modifiedMs = await stat(path).then((stats) => stats.mtimeMs, () => now);
    if (now - modifiedMs > STALE_ENTRY_MS) await rm(path, { recursive: true, force: true });
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (stats) => stats.isDirectory(),
    () => false,
  );
}
