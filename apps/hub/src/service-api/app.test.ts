/**
 * The service REST app without a server: `app.request` over in-memory stores, a fake clock and
 * the built-in policies. Covers routing, If-Match rules, list/bulk/regenerate/module/statistics
 * shapes, api-version tolerance, authorisation, and the generic 500 for a bug inside a route.
 */

import { describe, expect, test } from 'bun:test';
import {
  createBuiltInPolicies,
  type Device,
  IdentityRegistry,
  type LogFields,
  type Logger,
  PolicyAuthenticator,
  sasRecipes,
  silentLogger,
} from '@tributary/core';
import { createMemoryStores, FakeClock } from '@tributary/core/testing';
import { MemoryBlobContentStore } from '@tributary/core/testing';
import { createServiceApp } from './app.ts';
import { createHubServices, serviceApiDeps } from '../services.ts';

const HOST = 'hub.test';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const SAS_KEY = /^[A-Za-z0-9+/]{43}=$/;
const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const SHA1 = 'AB'.repeat(20);

interface DeviceBody {
  deviceId: string;
  etag: string;
  status: string;
  statusReason: string | null;
  generationId: string;
  authentication: { type: string; symmetricKey: { primaryKey: string | null; secondaryKey: string | null } };
}
interface ModuleBody {
  deviceId: string;
  moduleId: string;
  etag: string;
  managedBy: string | null;
  generationId: string;
  authentication: { type: string; symmetricKey: { primaryKey: string | null; secondaryKey: string | null } };
}
interface ErrorBody {
  Message: string;
  ExceptionMessage: string;
  errorCode: number;
}

interface LogLine {
  level: string;
  event: string;
  fields: LogFields;
}

function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (event: string, fields: LogFields = {}) => lines.push({ level, event, fields });
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** The policy whose token goes in Authorization; `null` sends none. */
  policy?: string | null;
}

async function setup(options: { registry?: (deps: ConstructorParameters<typeof IdentityRegistry>[0]) => IdentityRegistry; logger?: Logger; startedAtMs?: number } = {}) {
  const stores = createMemoryStores();
  const clock = new FakeClock();
  const policies = createBuiltInPolicies();
  for (const policy of policies) await stores.policies.upsert(policy);
  const registryDeps = { store: stores.registry, clock };
  const logger = options.logger ?? silentLogger;
  const services = await createHubServices(stores, { hostName: HOST, clock, logger, blobs: new MemoryBlobContentStore() });
  const registry = options.registry ? options.registry(registryDeps) : services.registry;
  const app = createServiceApp({ ...serviceApiDeps(services, logger), registry }, { version: 'test', startedAtMs: options.startedAtMs ?? 0 });
  const tokenFor = (keyName: string) => {
    const policy = policies.find((p) => p.keyName === keyName)!;
    return sasRecipes.service(HOST, keyName, policy.primaryKey, Math.floor(clock.now() / 1000) + 3600);
  };
  const call = (method: string, path: string, { body, headers = {}, policy = 'iothubowner' }: CallOptions = {}) =>
    app.request(path, {
      method,
      headers: {
        ...(policy === null ? {} : { authorization: tokenFor(policy) }),
        ...(body === undefined ? {} : { 'content-type': JSON_CONTENT_TYPE }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const text = await response.text();
    if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    return JSON.parse(text) as T;
  };
  const createDevice = async (deviceId: string, body: Record<string, unknown> = {}) =>
    json<DeviceBody>(await call('PUT', `/devices/${encodeURIComponent(deviceId)}`, { body: { deviceId, ...body } }));
  const getDevice = async (deviceId: string) => call('GET', `/devices/${encodeURIComponent(deviceId)}`);
  return { app, stores, clock, call, json, createDevice, getDevice };
}

/** Asserts an IoT Hub REST error: status, header, Message prefix (and what it mentions), numeric code. */
async function expectError(response: Response, status: number, name: string, numeric: number, mentions?: string | RegExp): Promise<ErrorBody> {
  const text = await response.text();
  expect({ status: response.status, code: response.headers.get('iothub-errorcode'), text }).toMatchObject({ status, code: name });
  expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
  const body = JSON.parse(text) as ErrorBody;
  expect(body.Message).toStartWith(`ErrorCode:${name};`);
  expect(body.errorCode).toBe(numeric);
  expect(body.ExceptionMessage).toMatch(/^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
  if (mentions !== undefined) expect(body.Message.split(';')[1]).toMatch(mentions);
  return body;
}

describe('health', () => {
  test('GET /health answers 200 without Authorization, with the version and uptime', async () => {
    const { call } = await setup({ startedAtMs: Date.now() - 5_000 });
    const response = await call('GET', '/health', { policy: null });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    const body = (await response.json()) as { status: string; version: string; uptimeSeconds: number };
    expect(body).toMatchObject({ status: 'ok', version: 'test' });
    expect(body.uptimeSeconds).toBeGreaterThanOrEqual(5);
    expect(body.uptimeSeconds).toBeLessThan(60);
  });
});

describe('creating and replacing devices with PUT', () => {
  test('PUT without If-Match creates the device, 200 with its etag in the ETag header and generated keys', async () => {
    const { call, json } = await setup();
    const response = await call('PUT', '/devices/dev1', { body: { deviceId: 'dev1' } });
    const etagHeader = response.headers.get('etag');
    const device = await json<DeviceBody>(response);
    expect(device.deviceId).toBe('dev1');
    expect(device.etag).toBe('MQ==');
    expect(etagHeader).toBe(`"${device.etag}"`);
    expect(device.authentication.type).toBe('sas');
    expect(device.authentication.symmetricKey.primaryKey).toMatch(SAS_KEY);
    expect(device.authentication.symmetricKey.secondaryKey).toMatch(SAS_KEY);
  });

  test('PUT with If-Match "*" replaces the device, moves the etag and keeps the keys', async () => {
    const { call, json, createDevice } = await setup();
    const created = await createDevice('dev1');
    const response = await call('PUT', '/devices/dev1', {
      body: { deviceId: 'dev1', status: 'disabled', statusReason: 'maintenance' },
      headers: { 'if-match': '"*"' },
    });
    const etagHeader = response.headers.get('etag');
    const replaced = await json<DeviceBody>(response);
    expect(replaced).toMatchObject({ status: 'disabled', statusReason: 'maintenance', generationId: created.generationId });
    expect(replaced.etag).not.toBe(created.etag);
    expect(etagHeader).toBe(`"${replaced.etag}"`);
    expect(replaced.authentication.symmetricKey).toEqual(created.authentication.symmetricKey);
  });

  test('PUT with If-Match of the current etag replaces the device', async () => {
    const { call, json, createDevice } = await setup();
    const created = await createDevice('dev1');
    const replaced = await json<DeviceBody>(
      await call('PUT', '/devices/dev1', { body: { status: 'disabled' }, headers: { 'if-match': `"${created.etag}"` } }),
    );
    expect(replaced.status).toBe('disabled');
  });

  test('PUT with a stale If-Match fails with 412 PreconditionFailed and changes nothing', async () => {
    const { call, json, createDevice, getDevice } = await setup();
    const created = await createDevice('dev1');
    const current = await json<DeviceBody>(await call('PUT', '/devices/dev1', { body: { status: 'disabled' }, headers: { 'if-match': '"*"' } }));
    const stale = await call('PUT', '/devices/dev1', { body: { status: 'enabled' }, headers: { 'if-match': `"${created.etag}"` } });
    await expectError(stale, 412, 'PreconditionFailed', 412001, /ETag/);
    expect(await json<DeviceBody>(await getDevice('dev1'))).toEqual(current);
  });

  test('PUT without If-Match on a taken id fails with 409 DeviceAlreadyExists and keeps the first device', async () => {
    const { call, json, createDevice, getDevice } = await setup();
    const created = await createDevice('dev1');
    const again = await call('PUT', '/devices/dev1', { body: { deviceId: 'dev1', status: 'disabled' } });
    await expectError(again, 409, 'DeviceAlreadyExists', 409001, /dev1/);
    expect(await json<DeviceBody>(await getDevice('dev1'))).toEqual(created);
  });

  test('PUT with If-Match on a missing device fails with 404 DeviceNotFound and creates nothing', async () => {
    const { call, getDevice } = await setup();
    await expectError(await call('PUT', '/devices/ghost', { body: {}, headers: { 'if-match': '"*"' } }), 404, 'DeviceNotFound', 404001, /ghost/);
    await expectError(await getDevice('ghost'), 404, 'DeviceNotFound', 404001);
  });

  test('a percent-encoded id in the path is decoded exactly once', async () => {
    const { createDevice, getDevice, json } = await setup();
    expect((await createDevice("a:b'c%d")).deviceId).toBe("a:b'c%d");
    expect((await json<DeviceBody>(await getDevice("a:b'c%d"))).deviceId).toBe("a:b'c%d");
    await expectError(await getDevice('a:b'), 404, 'DeviceNotFound', 404001);
  });
});

describe('reading and deleting devices', () => {
  test('GET returns the device with its etag in the ETag header; a missing id is 404 DeviceNotFound', async () => {
    const { json, createDevice, getDevice } = await setup();
    const created = await createDevice('dev1');
    const response = await getDevice('dev1');
    expect(response.headers.get('etag')).toBe(`"${created.etag}"`);
    expect(await json<DeviceBody>(response)).toEqual(created);
    await expectError(await getDevice('dev2'), 404, 'DeviceNotFound', 404001, /dev2/);
  });

  test('DELETE with If-Match "*" removes the device (204) and a second DELETE is 404', async () => {
    const { call, createDevice, getDevice } = await setup();
    await createDevice('dev1');
    const deleted = await call('DELETE', '/devices/dev1', { headers: { 'if-match': '"*"' } });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    await expectError(await getDevice('dev1'), 404, 'DeviceNotFound', 404001);
    await expectError(await call('DELETE', '/devices/dev1', { headers: { 'if-match': '"*"' } }), 404, 'DeviceNotFound', 404001);
  });

  test('DELETE with a stale If-Match fails with 412 and keeps the device', async () => {
    const { call, json, createDevice, getDevice } = await setup();
    const created = await createDevice('dev1');
    await expectError(await call('DELETE', '/devices/dev1', { headers: { 'if-match': '"c3RhbGU="' } }), 412, 'PreconditionFailed', 412001);
    expect(await json<DeviceBody>(await getDevice('dev1'))).toEqual(created);
  });
});

describe('listing devices', () => {
  test('GET /devices/ (trailing slash, as the SDK sends it) and GET /devices list every device by id', async () => {
    const { call, json, createDevice } = await setup();
    for (const id of ['c', 'a', 'b']) await createDevice(id);
    for (const path of ['/devices/', '/devices']) {
      const listed = await json<DeviceBody[]>(await call('GET', path));
      expect(listed.map((device) => device.deviceId)).toEqual(['a', 'b', 'c']);
    }
  });

  test('?top=2 returns the first two devices', async () => {
    const { call, json, createDevice } = await setup();
    for (const id of ['c', 'a', 'b']) await createDevice(id);
    const listed = await json<DeviceBody[]>(await call('GET', '/devices/?top=2'));
    expect(listed.map((device) => device.deviceId)).toEqual(['a', 'b']);
  });

  test.each(['abc', '0', '-1', '1.5', '1001'])('?top=%s is refused with 400 ArgumentInvalid naming top', async (top) => {
    const { call, createDevice } = await setup();
    await createDevice('a');
    await expectError(await call('GET', `/devices/?top=${top}`), 400, 'ArgumentInvalid', 400004, /top/);
  });

  test('an empty registry lists as an empty array', async () => {
    const { call, json } = await setup();
    expect(await json<unknown[]>(await call('GET', '/devices/'))).toEqual([]);
  });
});

describe('bulk registry operations (POST /devices)', () => {
  test('creating devices answers {isSuccessful:true, errors:[], warnings:[]} and registers them', async () => {
    const { call, json, getDevice } = await setup();
    const result = await json<unknown>(
      await call('POST', '/devices', { body: [{ id: 'b1', importMode: 'create' }, { id: 'b2', importMode: 'Create', status: 'disabled' }] }),
    );
    expect(result).toEqual({ isSuccessful: true, errors: [], warnings: [] });
    expect((await json<DeviceBody>(await getDevice('b1'))).status).toBe('enabled');
    expect((await json<DeviceBody>(await getDevice('b2'))).status).toBe('disabled');
  });

  test('per-device failures are listed as {deviceId, errorCode, errorStatus} while the other operations apply', async () => {
    const { call, json, createDevice, getDevice } = await setup();
    await createDevice('taken');
    await createDevice('doomed');
    const result = await json<{ isSuccessful: boolean; errors: unknown[]; warnings: unknown[] }>(
      await call('POST', '/devices', {
        body: [
          { id: 'taken', importMode: 'create' },
          { id: 'fresh', importMode: 'create' },
          { id: 'doomed', importMode: 'Delete' },
          { id: 'missing', importMode: 'delete' },
        ],
      }),
    );
    expect(result).toEqual({
      isSuccessful: false,
      errors: [
        { deviceId: 'taken', errorCode: 'DeviceAlreadyExists', errorStatus: expect.stringContaining('taken') },
        { deviceId: 'missing', errorCode: 'DeviceNotFound', errorStatus: expect.stringContaining('missing') },
      ],
      warnings: [],
    });
    expect((await getDevice('fresh')).status).toBe(200);
    await expectError(await getDevice('doomed'), 404, 'DeviceNotFound', 404001);
  });

  test('an empty array is refused with 400 ArgumentInvalid', async () => {
    const { call } = await setup();
    await expectError(await call('POST', '/devices', { body: [] }), 400, 'ArgumentInvalid', 400004, /no devices/);
  });
});

describe('regenerating keys (POST /devices/{id}/regenerateKeys)', () => {
  async function withKeys() {
    const ctx = await setup();
    const created = await ctx.createDevice('dev1', { authentication: { type: 'sas', symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } } });
    const regenerate = async (init: CallOptions) => {
      const response = await ctx.call('POST', '/devices/dev1/regenerateKeys', init);
      const etagHeader = response.headers.get('etag');
      const device = await ctx.json<DeviceBody>(response);
      expect(etagHeader).toBe(`"${device.etag}"`);
      expect(device.etag).not.toBe(created.etag);
      expect(await ctx.json<DeviceBody>(await ctx.getDevice('dev1'))).toEqual(device);
      return device.authentication.symmetricKey;
    };
    return { ...ctx, regenerate };
  }

  test('keys=primary replaces only the primary key', async () => {
    const keys = await (await withKeys()).regenerate({ body: { keys: 'primary' } });
    expect(keys.primaryKey).toMatch(SAS_KEY);
    expect(keys.primaryKey).not.toBe(KEY_A);
    expect(keys.secondaryKey).toBe(KEY_B);
  });

  test('keys=secondary replaces only the secondary key', async () => {
    const keys = await (await withKeys()).regenerate({ body: { keys: 'secondary' } });
    expect(keys.primaryKey).toBe(KEY_A);
    expect(keys.secondaryKey).toMatch(SAS_KEY);
    expect(keys.secondaryKey).not.toBe(KEY_B);
  });

  test('keys=both replaces both keys with two different new keys', async () => {
    const keys = await (await withKeys()).regenerate({ body: { keys: 'both' } });
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_A);
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_B);
    expect(keys.primaryKey).not.toBe(keys.secondaryKey);
  });

  test('keys=swap exchanges primary and secondary', async () => {
    const keys = await (await withKeys()).regenerate({ body: { keys: 'swap' } });
    expect(keys).toEqual({ primaryKey: KEY_B, secondaryKey: KEY_A });
  });

  test('an empty body with Content-Length: 0 replaces both keys', async () => {
    const keys = await (await withKeys()).regenerate({ headers: { 'content-length': '0' } });
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_A);
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_B);
  });

  test('a body of {} replaces both keys', async () => {
    const keys = await (await withKeys()).regenerate({ body: {} });
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_A);
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_B);
  });

  test('a POST with no body at all (no Content-Length, as a chunked or HTTP/2 client sends it) replaces both keys', async () => {
    const keys = await (await withKeys()).regenerate({});
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_A);
    expect([keys.primaryKey, keys.secondaryKey]).not.toContain(KEY_B);
  });

  test.each([['tertiary'], [5]])('keys=%p is refused with 400 ArgumentInvalid naming keys and changes nothing', async (keys) => {
    const { call, json, getDevice } = await withKeys();
    const before = await json<DeviceBody>(await getDevice('dev1'));
    await expectError(await call('POST', '/devices/dev1/regenerateKeys', { body: { keys } }), 400, 'ArgumentInvalid', 400004, /keys/);
    expect(await json<DeviceBody>(await getDevice('dev1'))).toEqual(before);
  });

  test('a selfSigned device has no keys to regenerate: 400 InvalidOperation (400003)', async () => {
    const { call, createDevice } = await setup();
    await createDevice('x509', { authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: SHA1 } } });
    await expectError(await call('POST', '/devices/x509/regenerateKeys', { body: { keys: 'both' } }), 400, 'InvalidOperation', 400003, /selfSigned/);
  });

  test('regenerating keys of a missing device is 404 DeviceNotFound', async () => {
    const { call } = await setup();
    await expectError(await call('POST', '/devices/ghost/regenerateKeys', { body: {} }), 404, 'DeviceNotFound', 404001);
  });
});

describe('modules', () => {
  test('create, get, list, replace, stale etag, duplicate, regenerate and delete a module', async () => {
    const { call, json, createDevice } = await setup();
    await createDevice('dev1');
    const path = '/devices/dev1/modules/telemetry';

    const createdResponse = await call('PUT', path, { body: { deviceId: 'dev1', moduleId: 'telemetry' } });
    const createdEtag = createdResponse.headers.get('etag');
    const created = await json<ModuleBody>(createdResponse);
    expect(created).toMatchObject({ deviceId: 'dev1', moduleId: 'telemetry', managedBy: null, etag: 'MQ==' });
    expect(createdEtag).toBe(`"${created.etag}"`);
    expect(created.authentication.symmetricKey.primaryKey).toMatch(SAS_KEY);

    const fetched = await call('GET', path);
    expect(fetched.headers.get('etag')).toBe(`"${created.etag}"`);
    expect(await json<ModuleBody>(fetched)).toEqual(created);

    for (const listPath of ['/devices/dev1/modules', '/devices/dev1/modules/']) {
      expect(await json<ModuleBody[]>(await call('GET', listPath))).toEqual([created]);
    }

    const replaced = await json<ModuleBody>(await call('PUT', path, { body: { managedBy: 'operator' }, headers: { 'if-match': `"${created.etag}"` } }));
    expect(replaced.managedBy).toBe('operator');
    expect(replaced.etag).not.toBe(created.etag);
    expect(replaced.authentication).toEqual(created.authentication);

    await expectError(
      await call('PUT', path, { body: { managedBy: 'late' }, headers: { 'if-match': `"${created.etag}"` } }),
      412,
      'PreconditionFailed',
      412001,
    );
    await expectError(await call('PUT', path, { body: {} }), 409, 'ModuleAlreadyExistsOnDevice', 409301, /telemetry/);
    expect((await json<ModuleBody>(await call('GET', path))).managedBy).toBe('operator');

    const regenerated = await json<ModuleBody>(await call('POST', `${path}/regenerateKeys`, { body: { keys: 'swap' } }));
    expect(regenerated.authentication.symmetricKey).toEqual({
      primaryKey: created.authentication.symmetricKey.secondaryKey,
      secondaryKey: created.authentication.symmetricKey.primaryKey,
    });

    const deleted = await call('DELETE', path, { headers: { 'if-match': '"*"' } });
    expect(deleted.status).toBe(204);
    await expectError(await call('GET', path), 404, 'ModuleNotFound', 404010, /telemetry/);
    expect(await json<ModuleBody[]>(await call('GET', '/devices/dev1/modules'))).toEqual([]);
  });

  test('modules of a missing device: create and list are 404 DeviceNotFound', async () => {
    const { call } = await setup();
    await expectError(await call('PUT', '/devices/ghost/modules/m1', { body: {} }), 404, 'DeviceNotFound', 404001, /ghost/);
    await expectError(await call('GET', '/devices/ghost/modules'), 404, 'DeviceNotFound', 404001, /ghost/);
  });

  test('a moduleId in the body that differs from the path is refused with 400 ArgumentInvalid', async () => {
    const { call, createDevice } = await setup();
    await createDevice('dev1');
    await expectError(await call('PUT', '/devices/dev1/modules/m1', { body: { moduleId: 'm2' } }), 400, 'ArgumentInvalid', 400004, /moduleId 'm2'/);
    await expectError(await call('GET', '/devices/dev1/modules/m1'), 404, 'ModuleNotFound', 404010);
  });

  test('deleting a device deletes its modules', async () => {
    const { call, json, createDevice } = await setup();
    await createDevice('dev1');
    await json<ModuleBody>(await call('PUT', '/devices/dev1/modules/m1', { body: {} }));
    expect((await call('DELETE', '/devices/dev1', { headers: { 'if-match': '"*"' } })).status).toBe(204);
    await createDevice('dev1');
    expect(await json<ModuleBody[]>(await call('GET', '/devices/dev1/modules'))).toEqual([]);
  });
});

describe('statistics', () => {
  test('GET /statistics/devices counts total, enabled and disabled devices', async () => {
    const { call, json, createDevice } = await setup();
    expect(await json(await call('GET', '/statistics/devices'))).toEqual({ totalDeviceCount: 0, enabledDeviceCount: 0, disabledDeviceCount: 0 });
    await createDevice('on1');
    await createDevice('on2');
    await createDevice('off', { status: 'disabled' });
    expect(await json(await call('GET', '/statistics/devices'))).toEqual({ totalDeviceCount: 3, enabledDeviceCount: 2, disabledDeviceCount: 1 });
  });

  test('GET /statistics/service reports no connected devices on a fresh hub', async () => {
    const { call, json, createDevice } = await setup();
    await createDevice('dev1');
    expect(await json(await call('GET', '/statistics/service'))).toEqual({ connectedDeviceCount: 0 });
  });
});

describe('api-version', () => {
  test.each(['?api-version=1999-01-01', '?api-version=2021-04-12', '?api-version=', ''])(
    'requests with %p are accepted whatever the version',
    async (query) => {
      const { call, json } = await setup();
      const created = await json<DeviceBody>(await call('PUT', `/devices/dev1${query}`, { body: {} }));
      expect(created.deviceId).toBe('dev1');
      expect(await json<DeviceBody>(await call('GET', `/devices/dev1${query}`))).toEqual(created);
      expect((await json<DeviceBody[]>(await call('GET', `/devices/${query}`))).map((d) => d.deviceId)).toEqual(['dev1']);
      expect(await json(await call('GET', `/statistics/devices${query}`))).toMatchObject({ totalDeviceCount: 1 });
      expect((await call('DELETE', `/devices/dev1${query}`, { headers: { 'if-match': '"*"' } })).status).toBe(204);
    },
  );
});

describe('authorisation', () => {
  test('a request without Authorization is 401 IotHubUnauthorizedAccess and creates nothing', async () => {
    const { call, getDevice } = await setup();
    await expectError(await call('PUT', '/devices/dev1', { body: {}, policy: null }), 401, 'IotHubUnauthorizedAccess', 401002, /Authorization/);
    await expectError(await getDevice('dev1'), 404, 'DeviceNotFound', 404001);
  });

  test('registryRead may read but its writes are 401 and change nothing', async () => {
    const { call, json, createDevice, getDevice } = await setup();
    const created = await createDevice('dev1');
    expect(await json<DeviceBody>(await call('GET', '/devices/dev1', { policy: 'registryRead' }))).toEqual(created);
    await expectError(
      await call('PUT', '/devices/dev1', { body: { status: 'disabled' }, headers: { 'if-match': '"*"' }, policy: 'registryRead' }),
      401,
      'IotHubUnauthorizedAccess',
      401002,
      /RegistryWrite/,
    );
    await expectError(await call('DELETE', '/devices/dev1', { policy: 'registryRead' }), 401, 'IotHubUnauthorizedAccess', 401002);
    await expectError(await call('POST', '/devices', { body: [{ id: 'x' }], policy: 'registryRead' }), 401, 'IotHubUnauthorizedAccess', 401002);
    expect(await json<DeviceBody>(await getDevice('dev1'))).toEqual(created);
  });

  test('the service policy (ServiceConnect only) cannot read the registry', async () => {
    const { call, createDevice } = await setup();
    await createDevice('dev1');
    await expectError(await call('GET', '/devices/dev1', { policy: 'service' }), 401, 'IotHubUnauthorizedAccess', 401002, /RegistryRead/);
    await expectError(await call('GET', '/statistics/devices', { policy: 'service' }), 401, 'IotHubUnauthorizedAccess', 401002);
  });
});

describe('unknown paths and methods', () => {
  test('an unknown path is 404 GenericNotFound', async () => {
    const { call } = await setup();
    await expectError(await call('GET', '/nope'), 404, 'GenericNotFound', 404000, /nope/);
    await expectError(await call('GET', '/statistics/nope'), 404, 'GenericNotFound', 404000);
  });

  test('PATCH on a device path is 405 GenericMethodNotAllowed', async () => {
    const { call } = await setup();
    await expectError(await call('PATCH', '/devices/dev1', { body: {} }), 405, 'GenericMethodNotAllowed', 405000, /PATCH/);
  });
});

describe('a bug inside a route', () => {
  test('a plain Error thrown by the registry is a 500 ServerError with a generic message, logged once', async () => {
    const logger = recordingLogger();
    const failure = new Error('connection to postgres://admin:s3cret@db/registry refused');
    class BrokenRegistry extends IdentityRegistry {
      override async getDevice(): Promise<Device> {
        throw failure;
      }
    }
    const { call } = await setup({ registry: (deps) => new BrokenRegistry(deps), logger });
    const response = await call('GET', '/devices/dev1');
    const text = await response.clone().text();
    const body = await expectError(response, 500, 'ServerError', 500001);
    expect(body.Message).toBe('ErrorCode:ServerError;The hub failed to process the request');
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain('postgres');
    expect(text).not.toContain('refused');

    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ event: 'request_failed', fields: { method: 'GET', path: '/devices/dev1', error: failure } });
    expect(body.ExceptionMessage).toStartWith(`Tracking ID:${errors[0]!.fields.trackingId}-`);
  });

  test('expected outcomes (HubError) are not logged as errors', async () => {
    const logger = recordingLogger();
    const { call } = await setup({ logger });
    await expectError(await call('GET', '/devices/ghost'), 404, 'DeviceNotFound', 404001);
    await expectError(await call('PUT', '/devices/x', { body: { status: 5 } }), 400, 'ArgumentInvalid', 400004);
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([]);
  });
});
