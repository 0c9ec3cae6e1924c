#!/usr/bin/env bun
/**
 * `bun run test`: every test of the repository in one command. Builds the console first (the
 * end-to-end tests check the hub serves it), then runs `bun test` over all packages, then the
 * console's browser tests (Playwright with Chromium, apps/web/e2e). Tests that touch storage run
 * on PGlite, and on PostgreSQL too when DATABASE_URL is set (otherwise those runs are skipped
 * loudly). Ends with the one line `N passed, N failed` that adds up both runners.
 * Extra arguments go to `bun test` (e.g. a path or `-t pattern`) and skip the browser tests, which
 * run alone with `bunx --bun playwright test` in apps/web.
 */

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

const build = Bun.spawn(['bun', 'run', 'build'], { cwd: root, stdout: 'inherit', stderr: 'inherit' });
if ((await build.exited) !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

if (!process.env.DATABASE_URL) {
  console.warn('DATABASE_URL is not set: PostgreSQL runs are skipped (e.g. DATABASE_URL=postgres://root@127.0.0.1:5432/test)');
}

const tests = Bun.spawn(['bun', 'test', '--timeout', '30000', ...process.argv.slice(2)], {
  cwd: root,
  stdout: 'inherit',
  stderr: 'pipe',
});
let summary = '';
const decoder = new TextDecoder();
for await (const chunk of tests.stderr) {
  process.stderr.write(chunk);
  summary = (summary + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const code = await tests.exited;
const count = (word: string) => Number(summary.match(new RegExp(`^\\s*(\\d+) ${word}$`, 'm'))?.[1] ?? 0);
let [passed, failed, skipped] = [count('pass'), count('fail'), count('skip')];
// A non-zero exit without a failed test (a file that did not load, no test found) is one failure.
if (code !== 0 && failed === 0) failed = 1;

const browser = process.argv.length > 2 ? undefined : await runBrowserTests();
if (browser) {
  passed += browser.passed;
  failed += browser.failed;
  skipped += browser.skipped;
} else {
  console.warn('Browser tests skipped: extra arguments go to `bun test` only');
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);

/**
 * Runs Playwright in apps/web (its global setup starts a hub) and counts its results from the JSON
 * reporter's file, never from the console output. A run that fails without a failed test (the hub
 * or the browser did not start) counts as one failure per reported error, at least one.
 */
async function runBrowserTests(): Promise<{ passed: number; failed: number; skipped: number }> {
  const web = join(root, 'apps/web');
  const reportFile = join(web, 'e2e/artifacts/report.json');
  rmSync(reportFile, { force: true });
  const run = Bun.spawn(['bunx', '--bun', 'playwright', 'test'], {
    cwd: web,
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile },
    stdout: 'inherit',
    stderr: 'inherit',
  });
  const exitCode = await run.exited;
  let report: { stats?: { expected?: number; unexpected?: number; flaky?: number; skipped?: number }; errors?: unknown[] } = {};
  try {
    if (existsSync(reportFile)) report = JSON.parse(readFileSync(reportFile, 'utf8'));
  } catch (error) {
    console.error(`Could not read the Playwright report ${reportFile}: ${error}`);
  }
  const stats = report.stats ?? {};
  const result = {
    passed: (stats.expected ?? 0) + (stats.flaky ?? 0),
    failed: stats.unexpected ?? 0,
    skipped: stats.skipped ?? 0,
  };
  if (exitCode !== 0 && result.failed === 0) result.failed = Math.max(1, report.errors?.length ?? 0);
  console.error(`Browser tests: ${result.passed} passed, ${result.failed} failed${result.skipped ? `, ${result.skipped} skipped` : ''}`);
  return result;
}
