/**
 * File upload end to end with the official device SDK: `client.uploadToBlob` over the Mqtt and
 * Http transports (the upload itself always goes over HTTPS to HostName:443 and the built-in blob
 * storage), stored bytes checked by hash through the service REST API, the file notification,
 * SAS tampering and expiry refused with 403, and an upload past the device quota leaving nothing.
 *
 * uploadToBlob runs under Node (a child process), as devices run it: under Bun, @azure/core-http
 * hands Bun's built-in node-fetch an @azure/abort-controller signal, which Bun's fetch refuses
 * ("signal is not of type AbortSignal"), and Bun's fetch ignores the test CA.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sasRecipes } from '@tributary/core';
import { createDeviceOverRest, serviceToken } from '../support/service-calls.ts';
import { forEachStorage, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

const HUB_APP_DIR = new URL('../..', import.meta.url).pathname;

/**
 * The device SDK's uploadToBlob in Node over the transport TRANSPORT names (Mqtt or Http); prints
 * `{ok}` or the error. The Http transport's setOptions calls back only when `http.receivePolicy`
 * is set (digest §1.3), so it is always passed.
 */
const NODE_UPLOAD = `
const fs = require('node:fs');
const { Client } = require('azure-iot-device');
const transports = { Mqtt: () => require('azure-iot-device-mqtt').Mqtt, Http: () => require('azure-iot-device-http').Http };
(async () => {
  const client = Client.fromConnectionString(process.env.CONNECTION_STRING, transports[process.env.TRANSPORT]());
  await client.setOptions({ ca: fs.readFileSync(process.env.CA_FILE, 'utf8'), http: { receivePolicy: { interval: 1 } } });
  await client.open();
  let result = { ok: true };
  try {
    const size = fs.statSync(process.env.SOURCE_FILE).size;
    await client.uploadToBlob(process.env.BLOB_NAME, fs.createReadStream(process.env.SOURCE_FILE), size);
  } catch (error) {
    result = { ok: false, error: String(error && error.message), name: error && error.constructor && error.constructor.name };
  }
  await client.close();
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
})().catch((error) => { process.stderr.write(String(error && error.stack)); process.exit(1); });
`;

type Transport = 'Mqtt' | 'Http';

async function uploadWithNode(connectionString: string, ca: string, blobName: string, content: Uint8Array, transport: Transport = 'Mqtt') {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-upload-'));
  try {
    const sourceFile = join(dir, 'source.bin');
    const caFile = join(dir, 'ca.pem');
    await writeFile(sourceFile, content);
    await writeFile(caFile, ca);
    const child = Bun.spawn(['node', '-e', NODE_UPLOAD], {
      cwd: HUB_APP_DIR,
      env: { ...process.env, CONNECTION_STRING: connectionString, CA_FILE: caFile, SOURCE_FILE: sourceFile, BLOB_NAME: blobName, TRANSPORT: transport, NODE_EXTRA_CA_CERTS: caFile },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    if (code !== 0) throw new Error(`node upload exited ${code}: ${stderr}`);
    return JSON.parse(stdout) as { ok: boolean; error?: string; name?: string };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

forEachStorage('file upload', (storage) => {
  let hub: SpawnedHub;
  let ca: string;
  let counter = 0;

  beforeAll(async () => {
    ca = (await sharedTestCa()).certPem;
    hub = await spawnHub({ storage });
  }, 60_000);
  afterAll(async () => {
    expect(await hub?.stop()).toBe(0);
  });

  async function newDevice(label: string) {
    const deviceId = `${label}-${storage}-${++counter}`;
    const key = await createDeviceOverRest(hub, deviceId);
    return { deviceId, key, connectionString: `HostName=${hub.info.hostName};DeviceId=${deviceId};SharedAccessKey=${key}` };
  }

  const service = (path: string, init: RequestInit = {}) =>
    hub.fetch(path, { ...init, headers: { authorization: serviceToken(hub), ...(init.headers as Record<string, string>) } });

  async function initiate(deviceId: string, key: string, blobName: string) {
    const token = sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 3600);
    const response = await hub.fetch(`/devices/${deviceId}/files?api-version=2021-04-12`, {
      method: 'POST',
      headers: { authorization: token, 'content-type': 'application/json' },
      body: JSON.stringify({ blobName }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { correlationId: string; hostName: string; containerName: string; blobName: string; sasToken: string };
  }

  const uploads = (['Mqtt', 'Http'] as const).flatMap((transport) => [10 * 1024, 50 * 1024 * 1024].map((size) => ({ transport, size })));
  for (const { transport, size } of uploads) {
    test(`uploadToBlob over ${transport} stores ${size} bytes exactly and the file notification appears`, async () => {
      const { deviceId, connectionString } = await newDevice('upload');
      const content = randomBytes(size);
      expect(await uploadWithNode(connectionString, ca, 'mye2edir/e2eblob.bin', content, transport)).toEqual({ ok: true });

      const listed = (await (await service(`/devices/${deviceId}/files`)).json()) as { name: string; sizeInBytes: number }[];
      expect(listed).toEqual([expect.objectContaining({ name: 'mye2edir/e2eblob.bin', sizeInBytes: size })]);
      const download = await service(`/devices/${deviceId}/files/mye2edir/e2eblob.bin`);
      expect(download.status).toBe(200);
      expect(sha256(new Uint8Array(await download.arrayBuffer()))).toBe(sha256(content));

      const notifications = (await (await service(`/files/notifications?deviceId=${deviceId}`)).json()) as Record<string, unknown>[];
      expect(notifications).toEqual([
        expect.objectContaining({ deviceId, blobName: `${deviceId}/mye2edir/e2eblob.bin`, blobSizeInBytes: size, blobUri: expect.any(String) }),
      ]);
      expect(await (await service(`/devices/${deviceId}/files/mye2edir/e2eblob.bin`, { method: 'DELETE' })).status).toBe(204);
      expect(await (await service(`/devices/${deviceId}/files`)).json()).toEqual([]);
    }, 120_000);
  }

  test('a tampered blob SAS, or one for another blob, is refused with 403 AuthenticationFailed', async () => {
    const { deviceId, key } = await newDevice('tamper');
    const issued = await initiate(deviceId, key, 'a.txt');
    const url = (blobName: string, sas: string) => `https://${issued.hostName}/${issued.containerName}/${blobName}${sas}`;
    const put = (target: string) =>
      fetch(target, { method: 'PUT', headers: { 'x-ms-blob-type': 'BlockBlob' }, body: 'hello', tls: { ca } });
    const tampered = issued.sasToken.replace(/sig=([^&])/, (_, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    for (const response of [await put(url(issued.blobName, tampered)), await put(url(`${deviceId}/b.txt`, issued.sasToken))]) {
      expect(response.status).toBe(403);
      expect(response.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
      expect(await response.text()).toContain('<Error><Code>AuthenticationFailed</Code><Message>');
    }
    expect((await put(url(issued.blobName, issued.sasToken))).status).toBe(201);
  });

  test('an expired blob SAS is refused with 403', async () => {
    const { deviceId, key } = await newDevice('expiry');
    const settings = await service('/files/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sasTtlSeconds: 1 }) });
    expect(settings.status).toBe(200);
    try {
      const issued = await initiate(deviceId, key, 'late.txt');
      await Bun.sleep(2100);
      const response = await fetch(`https://${issued.hostName}/${issued.containerName}/${issued.blobName}${issued.sasToken}`, {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob' },
        body: 'too late',
        tls: { ca },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
    } finally {
      await service('/files/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sasTtlSeconds: 3600 }) });
    }
  });

  test('an upload past the device quota is refused and nothing of it is stored', async () => {
    const { deviceId, connectionString } = await newDevice('quota');
    const quota = 6 * 1024 * 1024;
    await service('/files/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceQuotaBytes: quota }) });
    try {
      const size = 20 * 1024 * 1024;
      const result = await uploadWithNode(connectionString, ca, 'big.bin', randomBytes(size));
      expect(result).toEqual({ ok: false, error: 'UploadToBlob failed.', name: 'BlobUploadNotificationError' });
      expect(await (await service(`/devices/${deviceId}/files`)).json()).toEqual([]);
      expect(await (await service(`/files/notifications?deviceId=${deviceId}`)).json()).toEqual([]);
      // Blocks still in flight when the upload was refused are dropped as they land.
      const deadline = Date.now() + 5000;
      let left = await filesUnder(join(hub.dataDir, 'files'));
      while (left.some((path) => path.includes(`d-${deviceId}`)) && Date.now() < deadline) {
        await Bun.sleep(100);
        left = await filesUnder(join(hub.dataDir, 'files'));
      }
      expect(left.filter((path) => path.includes(`d-${deviceId}`))).toEqual([]);
    } finally {
      await service('/files/settings', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceQuotaBytes: 1024 ** 3 }) });
    }
  }, 60_000);

  test('an 11th concurrent upload initiation is refused with 403006', async () => {
    const { deviceId, key } = await newDevice('limit');
    for (let i = 0; i < 10; i++) await initiate(deviceId, key, `f${i}`);
    const response = await hub.fetch(`/devices/${deviceId}/files?api-version=2021-04-12`, {
      method: 'POST',
      headers: { authorization: sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 3600), 'content-type': 'application/json' },
      body: JSON.stringify({ blobName: 'f10' }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('iothub-errorcode')).toBe('DeviceMaximumActiveFileUploadLimitExceeded');
  });
});
