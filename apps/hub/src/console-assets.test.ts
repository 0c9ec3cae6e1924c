import { afterAll, beforeAll, expect, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConsoleAssets } from './console-assets.ts';

let dir: string;
let assets: ReturnType<typeof createConsoleAssets>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-console-'));
  await mkdir(join(dir, '_app', 'immutable'), { recursive: true });
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(dir, 'favicon.svg'), '<svg/>');
  await writeFile(join(dir, '_app', 'immutable', 'entry.js'), 'export {}');
  await writeFile(join(dir, '_app', 'version.json'), '{"version":"1"}');
  assets = createConsoleAssets(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const get = (path: string, accept = '*/*') => assets.respond(new Request(`http://hub${path}`, { headers: { accept } }));

test('a browser navigation to any console route gets index.html; an API call to the same path is not the console’s', async () => {
  const page = await get('/devices/thermostat-1', 'text/html,application/xhtml+xml');
  expect(await page?.text()).toContain('<title>console</title>');
  expect(await get('/devices/thermostat-1')).toBeUndefined();
});

test('the console API and /health are never pages, even for a browser', async () => {
  expect(await get('/console/api/ca.pem', 'text/html')).toBeUndefined();
  expect(await get('/health', 'text/html')).toBeUndefined();
});

test('static files are served: hashed bundles cached forever, the rest revalidated', async () => {
  const bundle = await get('/_app/immutable/entry.js');
  expect(bundle?.headers.get('cache-control')).toContain('immutable');
  const version = await get('/_app/version.json');
  expect(version?.headers.get('cache-control')).toBe('no-cache');
  expect(await (await get('/favicon.svg'))?.text()).toBe('<svg/>');
  expect(await get('/missing.svg')).toBeUndefined();
  expect(await get('/_app/../../etc/passwd')).toBeUndefined();
});
