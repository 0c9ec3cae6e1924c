/**
 * The twin routes without a server: `app.request` over in-memory stores and a fake clock, then
 * the official azure-iothub Registry (and its Twin class) driven through the same app by
 * swapping only its HTTP layer, so the SDK's own request building and response parsing run.
 */

import { describe, expect, test } from 'bun:test';
import { ServiceAuthenticator } from '../auth.ts';
import { Hono } from 'hono';
import {
  createBuiltInPolicies,
  IdentityRegistry,
  type JsonObject,
  PolicyAuthenticator,
  sasRecipes,
  silentLogger,
  TwinService,
  type TwinTarget,
} from '@tributary/core';
import { createMemoryStores, createMemoryTwinStore, FakeClock } from '@tributary/core/testing';
import { Registry, Twin } from 'azure-iothub';
import { RestApiClient } from 'azure-iothub/dist/common-http/rest_api_client';
import type { ServiceApiEnv } from '../context.ts';
import { createErrorHandler } from '../errors.ts';
import { twinRoutes } from './twins.ts';

const HOST = 'hub.test';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

type TwinBody = {
  deviceId: string;
  moduleId?: string;
  etag: string;
  deviceEtag: string;
  version: number;
  tags: JsonObject;
  properties: { desired: JsonObject; reported: JsonObject };
};

async function setup() {
  const stores = createMemoryStores();
  const clock = new FakeClock();
  const policies = createBuiltInPolicies();
  for (const policy of policies) await stores.policies.upsert(policy);
  const registry = new IdentityRegistry({ store: stores.registry, clock });
  const desiredPatches: { target: TwinTarget; patch: JsonObject }[] = [];
  const twins = new TwinService({
    twins: createMemoryTwinStore(stores.registry),
    registry: stores.registry,
    clock,
    onDesiredPatched: (target, patch) => desiredPatches.push({ target, patch }),
  });
  const authenticator = new ServiceAuthenticator(new PolicyAuthenticator({ policies: stores.policies, hostName: HOST, clock }));
  const app = new Hono<ServiceApiEnv>({ strict: false });
  app.onError(createErrorHandler(silentLogger));
  app.route('/twins', twinRoutes({ twins, authenticator }));
  // Another area's route under /twins, which the twin routes must leave alone.
  app.post('/twins/:deviceId/methods', (c) => c.json({ owner: 'methods' }));

  const tokenFor = (keyName: string) => {
    const policy = policies.find((p) => p.keyName === keyName)!;
    return sasRecipes.service(HOST, keyName, policy.primaryKey, Math.floor(clock.now() / 1000) + 3600);
  };
  const call = (method: string, path: string, options: { body?: unknown; ifMatch?: string; policy?: string | null } = {}) =>
    app.request(path, {
      method,
      headers: {
        ...(options.policy === null ? {} : { authorization: tokenFor(options.policy ?? 'iothubowner') }),
        ...(options.body === undefined ? {} : { 'content-type': JSON_CONTENT_TYPE }),
        ...(options.ifMatch === undefined ? {} : { 'if-match': options.ifMatch }),
      },
      body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
  const twinOf = async (response: Response, status = 200): Promise<TwinBody> => {
    const text = await response.text();
    if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    const body = JSON.parse(text) as TwinBody;
    expect(response.headers.get('etag')).toBe(`"${body.etag}"`);
    return body;
  };
  await registry.createDevice({ deviceId: 'dev1' });
  return { app, clock, registry, twins, call, twinOf, tokenFor, desiredPatches };
}

async function expectError(response: Response, status: number, name: string, mentions?: RegExp): Promise<void> {
  const text = await response.text();
  expect({ status: response.status, code: response.headers.get('iothub-errorcode') }).toEqual({ status, code: name });
  const body = JSON.parse(text) as { Message: string };
  expect(body.Message).toStartWith(`ErrorCode:${name};`);
  if (mentions) expect(body.Message).toMatch(mentions);
}

describe('twin routes', () => {
  test('GET /twins/{id} answers the service twin with its etag in ETag', async () => {
    const { call, twinOf, clock } = await setup();
    const created = new Date(clock.now()).toISOString();
    const twin: Record<string, unknown> = await twinOf(await call('GET', '/twins/dev1?api-version=2021-04-12'));
    expect(twin).toEqual({
      deviceId: 'dev1',
      etag: 'AAAAAAAAAAE=',
      deviceEtag: 'MQ==',
      status: 'enabled',
      statusUpdateTime: created,
      connectionState: 'Disconnected',
      lastActivityTime: '0001-01-01T00:00:00Z',
      cloudToDeviceMessageCount: 0,
      authenticationType: 'sas',
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
      modelId: '',
      version: 1,
      tags: {},
      properties: {
        desired: { $metadata: { $lastUpdated: created }, $version: 1 },
        reported: { $metadata: { $lastUpdated: created }, $version: 1 },
      },
      capabilities: { iotEdge: false },
      parentScopes: [],
    });
  });

  test('PATCH with If-Match "*" merges tags and desired, answers the new twin and tells the device', async () => {
    const { call, twinOf, desiredPatches } = await setup();
    const patch = { tags: { site: 'a' }, properties: { desired: { fan: { speed: 2 } } } };
    const twin = await twinOf(await call('PATCH', '/twins/dev1', { body: patch, ifMatch: '"*"' }));
    expect(twin).toMatchObject({ etag: 'AAAAAAAAAAI=', version: 2, tags: { site: 'a' }, properties: { desired: { fan: { speed: 2 }, $version: 2 } } });
    expect(twin.properties.desired.$metadata).toMatchObject({ $lastUpdatedVersion: 2, fan: { speed: { $lastUpdatedVersion: 2 } } });
    expect(desiredPatches).toEqual([{ target: { deviceId: 'dev1', moduleId: null }, patch: { fan: { speed: 2 }, $version: 2 } }]);
  });

  test('PATCH with the current etag applies; with a stale one it is 412 PreconditionFailed and changes nothing', async () => {
    const { call, twinOf } = await setup();
    const first = await call('GET', '/twins/dev1');
    const etag = first.headers.get('etag')!;
    await twinOf(first);
    expect((await twinOf(await call('PATCH', '/twins/dev1', { body: { tags: { a: 1 } }, ifMatch: etag }))).version).toBe(2);
    await expectError(await call('PATCH', '/twins/dev1', { body: { tags: { a: 2 } }, ifMatch: etag }), 412, 'PreconditionFailed', /twin of device 'dev1'/);
    expect((await twinOf(await call('GET', '/twins/dev1'))).tags).toEqual({ a: 1 });
  });

  test('PUT replaces tags and desired whole', async () => {
    const { call, twinOf, desiredPatches } = await setup();
    await twinOf(await call('PATCH', '/twins/dev1', { body: { tags: { old: 1 }, properties: { desired: { a: 1, b: 2 } } } }));
    const twin = await twinOf(await call('PUT', '/twins/dev1', { body: { tags: { new: 1 }, properties: { desired: { b: 3 } } }, ifMatch: '"AAAAAAAAAAI="' }));
    expect(twin).toMatchObject({ version: 3, tags: { new: 1 }, properties: { desired: { b: 3, $version: 3 } } });
    expect(twin.properties.desired).not.toHaveProperty('a');
    expect(desiredPatches.at(-1)?.patch).toEqual({ b: 3, a: null, $version: 3 });
  });

  test('module twins are served under /twins/{id}/modules/{m}', async () => {
    const { call, twinOf, registry, desiredPatches } = await setup();
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const twin = await twinOf(await call('GET', '/twins/dev1/modules/m1'));
    expect(twin).toMatchObject({ deviceId: 'dev1', moduleId: 'm1', etag: 'AAAAAAAAAAE=', status: 'enabled' });
    expect(twin).not.toHaveProperty('capabilities');
    const patched = await twinOf(await call('PATCH', '/twins/dev1/modules/m1', { body: { properties: { desired: { x: 1 } } }, ifMatch: '"*"' }));
    expect(patched.version).toBe(2);
    expect(desiredPatches.at(-1)?.target).toEqual({ deviceId: 'dev1', moduleId: 'm1' });
    expect((await twinOf(await call('PUT', '/twins/dev1/modules/m1', { body: { tags: { t: 1 } } }))).version).toBe(3);
    expect((await twinOf(await call('GET', '/twins/dev1'))).version).toBe(1);
  });

  test('unknown devices and modules are 404 DeviceNotFound and ModuleNotFound', async () => {
    const { call } = await setup();
    await expectError(await call('GET', '/twins/ghost'), 404, 'DeviceNotFound');
    await expectError(await call('PATCH', '/twins/ghost', { body: { tags: { a: 1 } } }), 404, 'DeviceNotFound');
    await expectError(await call('GET', '/twins/dev1/modules/m9'), 404, 'ModuleNotFound');
  });

  test('bad patches are 400 and change nothing', async () => {
    const { call, twinOf } = await setup();
    await expectError(await call('PATCH', '/twins/dev1', { body: { properties: { reported: { a: 1 } } } }), 400, 'ArgumentInvalid', /read-only/);
    await expectError(await call('PATCH', '/twins/dev1', { body: { tags: { 'a.b': 1 } } }), 400, 'ArgumentInvalid', /"a\.b"/);
    await expectError(await call('PATCH', '/twins/dev1', { body: [1] }), 400, 'ArgumentInvalid', /JSON object/);
    await expectError(await call('PATCH', '/twins/dev1', { body: '{"tags":' }), 400, 'IotHubFormatError');
    await expectError(await call('PATCH', '/twins/bad%20id', { body: {} }), 400, 'ArgumentInvalid', /deviceId/);
    expect((await twinOf(await call('GET', '/twins/dev1'))).version).toBe(1);
  });

  test('reads need ServiceConnect or RegistryRead, writes need ServiceConnect', async () => {
    const { call, twinOf } = await setup();
    await expectError(await call('GET', '/twins/dev1', { policy: null }), 401, 'IotHubUnauthorizedAccess', /Authorization/);
    await twinOf(await call('GET', '/twins/dev1', { policy: 'service' }));
    await twinOf(await call('GET', '/twins/dev1', { policy: 'registryRead' }));
    await expectError(await call('GET', '/twins/dev1', { policy: 'device' }), 401, 'IotHubUnauthorizedAccess', /ServiceConnect or RegistryRead/);
    await twinOf(await call('PATCH', '/twins/dev1', { body: { tags: { a: 1 } }, policy: 'service' }));
    for (const policy of ['registryRead', 'registryReadWrite']) {
      await expectError(await call('PATCH', '/twins/dev1', { body: { tags: { b: 1 } }, policy }), 401, 'IotHubUnauthorizedAccess', /ServiceConnect/);
      await expectError(await call('PUT', '/twins/dev1/modules/m1', { body: {}, policy }), 401, 'IotHubUnauthorizedAccess');
    }
    expect((await twinOf(await call('GET', '/twins/dev1'))).tags).toEqual({ a: 1 });
  });

  test('other methods are 405 with Allow, and /twins/{id}/methods is left to its own routes', async () => {
    const { call } = await setup();
    const deleted = await call('DELETE', '/twins/dev1');
    expect(deleted.headers.get('allow')).toBe('GET, PATCH, PUT');
    await expectError(deleted, 405, 'GenericMethodNotAllowed');
    await expectError(await call('POST', '/twins/dev1/modules/m1', { body: {} }), 405, 'GenericMethodNotAllowed');
    const methods = await call('POST', '/twins/dev1/methods', { body: { methodName: 'reboot' } });
    expect(await methods.json()).toEqual({ owner: 'methods' });
  });
});

/**
 * The SDK's HTTP layer, replaced: requests go to `app.request` and the answers come back as the
 * `(err, body, response)` triple azure-iothub's Http.buildRequest produces (err for status >= 300).
 */
function appHttp(app: Hono<ServiceApiEnv>) {
  return {
    setOptions() {},
    buildRequest(method: string, path: string, headers: Record<string, unknown>, _host: unknown, done: (...args: unknown[]) => void) {
      let body: string | undefined;
      return {
        write: (chunk: string) => (body = (body ?? '') + chunk),
        setTimeout() {},
        on() {},
        end() {
          const requestHeaders = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));
          void Promise.resolve(app.request(path, { method, headers: requestHeaders, body })).then(async (response) => {
            const text = await response.text();
            const incoming = { statusCode: response.status, statusMessage: response.statusText, headers: Object.fromEntries(response.headers) };
            done(response.status >= 300 ? new Error(response.statusText) : null, text, incoming);
          }, done);
        },
      };
    },
  };
}

describe('the official azure-iothub Registry and Twin read our twins', () => {
  async function sdkSetup() {
    const context = await setup();
    const config = { host: HOST, sharedAccessSignature: context.tokenFor('service') };
    const restClient = new RestApiClient(config, 'azure-iothub/1.16.6', appHttp(context.app) as never);
    return { ...context, sdk: new Registry(config, restClient) };
  }

  test('getTwin gives a Twin with tags, properties, $version and the etag', async () => {
    const { sdk } = await sdkSetup();
    const { responseBody: twin } = await sdk.getTwin('dev1');
    expect(twin).toBeInstanceOf(Twin);
    expect(twin.deviceId).toBe('dev1');
    expect(twin.etag).toBe('AAAAAAAAAAE=');
    expect(twin.tags).toEqual({});
    expect(twin.properties.desired.$version).toBe(1);
    expect(twin.properties.reported.$version).toBe(1);
  });

  test('Twin.update merges, keeps the new etag, and a stale etag fails with InvalidEtagError', async () => {
    const { sdk, desiredPatches } = await sdkSetup();
    const { responseBody: twin } = await sdk.getTwin('dev1');
    const { result: updated } = await twin.update({ tags: { site: 'a' }, properties: { desired: { fan: 'on' } } });
    expect(updated.etag).toBe('AAAAAAAAAAI=');
    expect(updated.tags).toEqual({ site: 'a' });
    expect(updated.properties.desired.fan).toBe('on');
    expect(desiredPatches.at(-1)?.patch).toEqual({ fan: 'on', $version: 2 });

    const { responseBody: other } = await sdk.getTwin('dev1');
    await other.update({ tags: { by: 'other' } });
    const stale = await updated.update({ tags: { by: 'stale' } }).catch((error: Error) => error);
    expect((stale as Error).name).toBe('InvalidEtagError');
    const { responseBody: nulled } = await sdk.updateTwin('dev1', { tags: null, properties: { desired: null } }, '*');
    expect(nulled.tags).toEqual({});
    expect(nulled.properties.desired).toMatchObject({ $version: 3 });
    expect(Object.keys(nulled.properties.desired).filter((key) => !key.startsWith('$'))).toEqual([]);
  });

  test('getModuleTwin and updateModuleTwin reach module twins; a missing device is DeviceNotFoundError', async () => {
    const { sdk, registry } = await sdkSetup();
    await registry.createModule({ deviceId: 'dev1', moduleId: 'm1' });
    const { responseBody: twin } = await sdk.getModuleTwin('dev1', 'm1');
    expect(twin.moduleId).toBe('m1');
    const { result: updated } = await twin.update({ properties: { desired: { x: 1 } } });
    expect(updated.properties.desired.$version).toBe(2);
    const missing = await sdk.getTwin('ghost').catch((error: Error) => error);
    expect((missing as Error).name).toBe('DeviceNotFoundError');
  });
});
