/**
 * The hub process as a user runs it: first start on a fresh data dir, what it prints and writes,
 * its listeners (including the 443 → 8443 fallback), graceful shutdown and restart.
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'bun:test';
import { Registry } from 'azure-iothub';
import { createTemporaryPostgresDatabase } from '@tributary/db/testing';
import { forEachStorage, privateLoopbackAddress, sharedTestCa, spawnHub } from './spawn-hub.ts';

forEachStorage('hub lifecycle', (storage) => {
  test('a first start prints the banner, writes hub.json (0600) and serves the console and health', async () => {
    const hub = await spawnHub({ storage });
    try {
      const banner = hub.stdout();
      expect(banner).toContain(`export NODE_EXTRA_CA_CERTS=${hub.info.caCertPath}`);
      expect(banner).toContain(hub.connectionString('iothubowner'));
      expect(banner).toMatch(/Console login {4}admin \/ \S+/);
      expect(hub.connectionString('iothubowner')).toMatch(
        new RegExp(`^HostName=${hub.info.hostName.replaceAll('.', '\\.')};SharedAccessKeyName=iothubowner;SharedAccessKey=[A-Za-z0-9+/]{43}=$`),
      );
      expect(Object.keys(hub.info.connectionStrings).sort()).toEqual(['device', 'iothubowner', 'registryRead', 'registryReadWrite', 'service']);
      expect((await stat(join(hub.dataDir, 'hub.json'))).mode & 0o777).toBe(0o600);
      expect((await stat(join(hub.dataDir, 'server.key'))).mode & 0o777).toBe(0o600);

      // The generated admin password is printed, never logged.
      const password = banner.match(/admin \/ (\S+)/)![1]!;
      expect(hub.stderr()).not.toContain(password);
      expect(hub.stderr()).not.toContain(hub.connectionString('iothubowner').split('SharedAccessKey=')[1]!);

      const local = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${hub.info.ports.http}${path}`, init);
      for (const get of [hub.fetch, local]) {
        const page = await get('/', { headers: { accept: 'text/html' } });
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toContain('text/html');
        expect(await page.text()).toContain('<title>Tributary</title>');
        const health = await get('/health');
        expect(await health.json()).toMatchObject({ status: 'ok', version: hub.info.version });
      }
    } finally {
      expect(await hub.stop()).toBe(0);
    }
  }, 60_000);

  test('SIGTERM stops the hub gracefully: exit code 0 and hub.json removed', async () => {
    const hub = await spawnHub({ storage, keep: true });
    try {
      expect(await hub.stop()).toBe(0);
      expect(await Bun.file(join(hub.dataDir, 'hub.json')).exists()).toBe(false);
      expect(hub.stderr()).toContain('"event":"hub_stopped"');
    } finally {
      await hub.database?.drop();
      await rm(hub.dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  test('a restart on the same data dir keeps policies, devices and the CA, and creates no second admin', async () => {
    const database = storage === 'postgres' ? await createTemporaryPostgresDatabase(process.env.DATABASE_URL!, 'restart') : undefined;
    const first = await spawnHub({ storage, database, keep: true });
    try {
      await Registry.fromConnectionString(first.connectionString()).create({ deviceId: 'survivor' });
      expect(await first.stop()).toBe(0);

      const second = await spawnHub({ storage, database, dataDir: first.dataDir, keep: true });
      try {
        const keysOf = (strings: Record<string, string>) =>
          Object.fromEntries(Object.entries(strings).map(([name, text]) => [name, text.split('SharedAccessKey=')[1]]));
        expect(keysOf(second.info.connectionStrings)).toEqual(keysOf(first.info.connectionStrings));
        expect(second.stdout()).not.toContain('Console login');
        const { responseBody } = await Registry.fromConnectionString(second.connectionString()).get('survivor');
        expect(responseBody.deviceId).toBe('survivor');
      } finally {
        expect(await second.stop()).toBe(0);
      }
    } finally {
      await database?.drop();
      await rm(first.dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});

test('with HUB_HTTPS_PORT unset and 443 taken, the hub falls back to 8443 and says which clients need 443', async () => {
  const address = privateLoopbackAddress();
  const squatter = Bun.serve({ hostname: address, port: 443, fetch: () => new Response('taken') });
  try {
    const hub = await spawnHub({ env: { HUB_HOSTNAME: 'localhost', HUB_BIND_ADDRESS: address, HUB_HTTPS_PORT: undefined } });
    try {
      expect(hub.info.ports.https).toBe(8443);
      expect(hub.stderr()).toContain('"event":"https_port_fallback"');
      expect(hub.stderr()).toContain('setcap cap_net_bind_service=+ep');
      const ca = await sharedTestCa();
      const health = await fetch(`https://${address}:8443/health`, { tls: { ca: ca.certPem, serverName: 'localhost' } });
      expect(health.status).toBe(200);
    } finally {
      expect(await hub.stop()).toBe(0);
    }
  } finally {
    squatter.stop(true);
  }
}, 60_000);

test('an explicitly set HTTPS port that cannot be bound stops the hub with an error naming the variable', async () => {
  const address = privateLoopbackAddress();
  const squatter = Bun.serve({ hostname: address, port: 443, fetch: () => new Response('taken') });
  try {
    const start = spawnHub({ env: { HUB_BIND_ADDRESS: address, HUB_HTTPS_PORT: '443' } });
    await expect(start).rejects.toThrow(/exit 1\):[\s\S]*tributary: HUB_HTTPS_PORT=443 cannot be bound on 127\.[\d.]+: address in use/);
  } finally {
    squatter.stop(true);
  }
}, 60_000);

test('a start that fails on a taken port creates nothing, so the next start still prints the admin password', async () => {
  const address = privateLoopbackAddress();
  const squatter = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('taken') });
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-e2e-'));
  try {
    const failed = spawnHub({ dataDir, env: { HUB_BIND_ADDRESS: address, HUB_HOSTNAME: address, HUB_HTTP_PORT: String(squatter.port) } });
    await expect(failed).rejects.toThrow(/HUB_HTTP_PORT=\d+ cannot be bound on 127\.0\.0\.1: address in use/);
    expect(existsSync(join(dataDir, 'pglite'))).toBe(false);

    const hub = await spawnHub({ dataDir });
    expect(hub.stdout()).toMatch(/Console login {4}admin \/ \S+/);
    expect(await hub.stop()).toBe(0);
  } finally {
    squatter.stop(true);
    await rm(dataDir, { recursive: true, force: true });
  }
}, 60_000);

test('an invalid setting stops the hub before it starts, naming the variable', async () => {
  const start = spawnHub({ env: { HUB_HTTP_PORT: 'eighty' } });
  await expect(start).rejects.toThrow(/exit 2\):\s*tributary: HUB_HTTP_PORT must be a port number from 0 to 65535, got 'eighty'/);
}, 30_000);
