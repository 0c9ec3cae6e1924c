#!/usr/bin/env bun
/**
 * `bun run test`: every test of the repository in one command. Builds the console first (the
 * end-to-end tests check the hub serves it), then runs `bun test` over all packages. Tests that
 * touch storage run on PGlite, and on PostgreSQL too when DATABASE_URL is set (otherwise those
 * runs are skipped loudly). Ends with the line `N passed, N failed`.
 * Extra arguments go to `bun test` (e.g. a path or `-t pattern`).
 */

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
const [passed, failed, skipped] = [count('pass'), count('fail'), count('skip')];
const counted = code === 0 || failed > 0 ? failed : failed + 1;
console.log(`${passed} passed, ${counted} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code);
