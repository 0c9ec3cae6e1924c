/**
 * The HTTPS device API without a server: `app.request` against the device routes mounted before
 * the service API, as the hub composes them (paths normalised by `normalizeDeviceApiPath` first),
 * over in-memory stores and a fake clock. Covers single and batch sends (stored only after the
 * whole batch passes), C2D receive/complete/reject/abandon with lock rules, authentication, the
 * REST error format, and that the service's own C2D send on the same path still works.
 */

import { describe, expect, test } from 'bun:test';
import { Hono } from 'hono';
import { createBuiltInPolicies, type EventRecord, MAX_TELEMETRY_BYTES, sasRecipes, silentLogger } from '@tributary/core';
import { createMemoryStores, FakeClock } from '@tributary/core/testing';
import { MemoryBlobContentStore } from '@tributary/core/testing';
import { createServiceApp } from '../../service-api/app.ts';
import { createHubServices, serviceApiDeps } from '../../services.ts';
import { normalizeDeviceApiPath } from './path-case.ts';
import { httpsDeviceRoutes } from './routes.ts';

const HOST = 'hub.test';
const API = 'api-version=2021-04-12';
const BATCH_TYPE = 'application/vnd.microsoft.iothub.json';
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** What hub.ts does before routing: the device API's fixed segments in lower case. */
function normalized(request: Request): Request {
  const url = new URL(request.url);
  const pathname = normalizeDeviceApiPath(url.pathname);
  if (pathname === url.pathname) return request;
  url.pathname = pathname;
  return new Request(url.href, request);
}

async function setup() {
  const stores = createMemoryStores();
  const clock = new FakeClock();
  const policies = createBuiltInPolicies();
  for (const policy of policies) await stores.policies.upsert(policy);
  const services = await createHubServices(stores, { hostName: HOST, clock, logger: silentLogger, blobs: new MemoryBlobContentStore() });
  const app = new Hono({ strict: false });
  app.route(
    '/',
    httpsDeviceRoutes({
      authenticate: (credentials) => services.deviceAuthenticator.authenticate(credentials),
      sessions: services.sessions,
      c2d: services.c2d,
      logger: silentLogger,
    }),
  );
  app.route('/', createServiceApp(serviceApiDeps(services, silentLogger), { version: 'test', startedAtMs: 0 }));

  const expiry = () => Math.floor(clock.now() / 1000) + 3600;
  const policyKey = (name: string) => policies.find((policy) => policy.keyName === name)!.primaryKey;
  const serviceToken = () => sasRecipes.service(HOST, 'iothubowner', policyKey('iothubowner'), expiry());
  const request = (method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit['body'] } = {}) =>
    app.fetch(normalized(new Request(`https://${HOST}${path}`, { method, headers: init.headers, body: init.body })));
  const service = (method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit['body'] } = {}) =>
    request(method, path, { ...init, headers: { authorization: serviceToken(), ...init.headers } });

  /** Registers a device; its `token()` signs with its primary key. */
  const createDevice = async (deviceId: string) => {
    const response = await service('PUT', `/devices/${encodeURIComponent(deviceId)}`, {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId }),
    });
    expect(response.status).toBe(200);
    const { authentication } = (await response.json()) as { authentication: { symmetricKey: { primaryKey: string } } };
    const key = authentication.symmetricKey.primaryKey;
    return { deviceId, key, token: () => sasRecipes.device(HOST, deviceId, key, expiry()) };
  };
  type DeviceHandle = Awaited<ReturnType<typeof createDevice>>;
  const device = (handle: DeviceHandle, method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit['body'] } = {}) =>
    request(method, path, { ...init, headers: { authorization: handle.token(), ...init.headers } });

  const storedEvents = async (deviceId: string): Promise<EventRecord[]> => {
    const events: EventRecord[] = [];
    for (let partition = 0; partition < services.partitionCount; partition++) {
      events.push(...(await stores.events.read(partition, 'start', 10_000)));
    }
    return events.filter((event) => event.deviceId === deviceId).sort((a, b) => a.enqueuedTime - b.enqueuedTime || a.offset - b.offset);
  };
  const sendC2d = async (deviceId: string, body: string, headers: Record<string, string> = {}) => {
    const response = await service('POST', `/devices/${encodeURIComponent(deviceId)}/messages/deviceBound`, {
      headers: { 'content-type': 'text/plain', ...headers },
      body,
    });
    expect(response.status).toBe(204);
    return response.headers.get('iothub-messageid')!;
  };
  const queue = async (deviceId: string) =>
    (await (await service('GET', `/devices/${encodeURIComponent(deviceId)}/commands`)).json()) as { messageId: string; deliveryCount: number }[];
  return { app, clock, services, policyKey, expiry, request, service, device, createDevice, storedEvents, sendC2d, queue };
}

/** Asserts IoT Hub's REST error: status, `iothub-errorcode`, and the `Message` the SDKs parse. */
async function expectError(response: Response, status: number, code: string, mentions?: RegExp) {
  const text = await response.text();
  expect({ status: response.status, code: response.headers.get('iothub-errorcode') }).toEqual({ status, code });
  const body = JSON.parse(text) as { Message: string };
  expect(body.Message).toStartWith(`ErrorCode:${code};`);
  if (mentions) expect(body.Message).toMatch(mentions);
}

/** A body the way the Node SDK sends it: chunked (a stream, so no Content-Length) and without Content-Type. */
const chunked = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
      controller.close();
    },
  });

describe('sending a single event', () => {
  test('a chunked body without Content-Type is stored with its header properties, answered 204 after commit', async () => {
    const { device, createDevice, storedEvents, service } = await setup();
    const dev = await createDevice('dev1');
    const response = await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, {
      headers: {
        'iothub-to': '/devices/dev1/messages/events',
        'IoTHub-MessageId': 'm-1',
        'IoTHub-CorrelationId': 'c-1',
        'iothub-contenttype': 'application/json',
        'iothub-contentencoding': 'utf-8',
        'dt-subject': 'thermostat1',
        'iothub-app-alert': 'yes',
      },
      body: chunked('{"temp', 'erature":21}'),
    });
    expect(response.status).toBe(204);
    const [event, ...rest] = await storedEvents('dev1');
    expect(rest).toHaveLength(0);
    expect(Buffer.from(event!.body).toString()).toBe('{"temperature":21}');
    expect(event!.applicationProperties).toEqual({ alert: 'yes' });
    expect(event!.systemProperties).toMatchObject({
      'message-id': 'm-1',
      'correlation-id': 'c-1',
      'content-type': 'application/json',
      'content-encoding': 'utf-8',
      'dt-subject': 'thermostat1',
      'iothub-connection-device-id': 'dev1',
      'iothub-message-source': 'Telemetry',
    });
    expect(event!.systemProperties.to).toBeUndefined();
    expect(JSON.parse(event!.systemProperties['iothub-connection-auth-method']!)).toMatchObject({ scope: 'device', type: 'sas' });
    // A request is not a connection: the device stays Disconnected.
    const registered = (await (await service('GET', '/devices/dev1')).json()) as { connectionState: string };
    expect(registered.connectionState).toBe('Disconnected');
  });

  test('the path matches whatever the case of its fixed segments, and any api-version', async () => {
    const { device, createDevice, storedEvents } = await setup();
    const dev = await createDevice('Dev-A');
    expect((await device(dev, 'POST', '/devices/Dev-A/Messages/Events?api-version=1999-01-01', { body: 'x' })).status).toBe(204);
    expect((await device(dev, 'POST', '/devices/Dev-A/messages/events/', { body: 'y' })).status).toBe(204);
    expect((await storedEvents('Dev-A')).map((event) => Buffer.from(event.body).toString())).toEqual(['x', 'y']);
  });

  test('an id with reserved characters, percent-encoded strictly as the SDK does, reaches that device', async () => {
    const { device, createDevice, storedEvents } = await setup();
    const dev = await createDevice("a:b'c(d)");
    const response = await device(dev, 'POST', `/devices/a%3Ab%27c%28d%29/messages/events?${API}`, { body: 'hi' });
    expect(response.status).toBe(204);
    expect(await storedEvents("a:b'c(d)")).toHaveLength(1);
  });

  test('a body over 256 KB is refused with 413 MessageTooLarge, chunked or not, and nothing is stored', async () => {
    const { device, createDevice, storedEvents } = await setup();
    const dev = await createDevice('dev1');
    const big = 'x'.repeat(MAX_TELEMETRY_BYTES + 1);
    await expectError(await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, { body: big }), 413, 'MessageTooLarge');
    await expectError(await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, { body: chunked(big.slice(0, 100_000), big.slice(100_000)) }), 413, 'MessageTooLarge');
    // Exactly 256 KB of body plus a property is over the limit too (IoT Hub counts properties).
    const full = 'x'.repeat(MAX_TELEMETRY_BYTES);
    await expectError(
      await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, { body: full, headers: { 'iothub-app-k': 'v' } }),
      413,
      'MessageTooLarge',
    );
    expect(await storedEvents('dev1')).toHaveLength(0);
  });

  test('other methods on the events path get 405 with Allow: POST', async () => {
    const { device, createDevice } = await setup();
    const dev = await createDevice('dev1');
    const response = await device(dev, 'GET', `/devices/dev1/messages/events?${API}`);
    expect(response.headers.get('allow')).toBe('POST');
    await expectError(response, 405, 'GenericMethodNotAllowed');
  });
});

describe('sending a batch', () => {
  test('every message of the batch is stored, in order, with its own properties', async () => {
    const { device, createDevice, storedEvents } = await setup();
    const dev = await createDevice('dev1');
    // Exactly as the SDK concatenates it.
    const body = `[{"body": "${b64('one')}", "properties":{"iothub-app-k":"v1","dt-subject":"s1"}},{"body": "${b64('two')}"},{"body": "${b64('three')}", "properties":{"iothub-app-k":"v3"}}]`;
    const response = await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, { headers: { 'content-type': BATCH_TYPE }, body });
    expect(response.status).toBe(204);
    const events = await storedEvents('dev1');
    expect(events.map((event) => Buffer.from(event.body).toString())).toEqual(['one', 'two', 'three']);
    expect(events.map((event) => event.applicationProperties)).toEqual([{ k: 'v1' }, {}, { k: 'v3' }]);
    expect(events[0]!.systemProperties['dt-subject']).toBe('s1');
    expect(events.every((event) => event.systemProperties['iothub-connection-device-id'] === 'dev1')).toBe(true);
  });

  test.each([
    ['a malformed element', `[{"body":"${b64('ok')}"},{"body":"%%%"}]`, 400, 'ArgumentInvalid'],
    ['invalid JSON (an unescaped quote in a value)', `[{"body":"${b64('ok')}","properties":{"iothub-app-k":"a"b"}}]`, 400, 'ArgumentInvalid'],
    ['an empty array', '[]', 400, 'ArgumentInvalid'],
    ['501 messages', JSON.stringify(Array(501).fill({ body: b64('x') })), 400, 'ArgumentInvalid'],
    ['over 256 KB of messages in all', JSON.stringify([{ body: b64('x'.repeat(200_000)) }, { body: b64('x'.repeat(100_000)) }]), 413, 'MessageTooLarge'],
    ['a request body over the batch limit', JSON.stringify([{ body: b64('x'.repeat(600_000)) }]), 413, 'MessageTooLarge'],
  ])('with %s, the whole batch is refused and nothing is stored', async (_, body, status, code) => {
    const { device, createDevice, storedEvents } = await setup();
    const dev = await createDevice('dev1');
    const response = await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, { headers: { 'content-type': `${BATCH_TYPE}; charset=utf-8` }, body });
    await expectError(response, status, code);
    expect(await storedEvents('dev1')).toHaveLength(0);
  });
});

describe('authentication', () => {
  test('a request without Authorization, or with another scheme, is refused with 401 IotHubUnauthorized', async () => {
    const { request, createDevice } = await setup();
    await createDevice('dev1');
    await expectError(await request('POST', `/devices/dev1/messages/events?${API}`, { body: 'x' }), 401, 'IotHubUnauthorized');
    await expectError(
      await request('GET', `/devices/dev1/messages/devicebound?${API}`, { headers: { authorization: 'Bearer abc' } }),
      401,
      'IotHubUnauthorized',
    );
  });

  test("another device's valid token, a wrong key or an expired token is refused with 401 and nothing is stored", async () => {
    const { request, createDevice, storedEvents, clock } = await setup();
    await createDevice('dev1');
    const other = await createDevice('dev2');
    const wrongKey = Buffer.alloc(32, 7).toString('base64');
    const expiredAt = Math.floor(clock.now() / 1000) - 600;
    for (const authorization of [
      other.token(),
      sasRecipes.device(HOST, 'dev1', wrongKey, Math.floor(clock.now() / 1000) + 3600),
      sasRecipes.device(HOST, 'dev1', other.key, Math.floor(clock.now() / 1000) + 3600),
      sasRecipes.device(HOST, 'dev1', (await createDevice('dev3')).key, expiredAt),
    ]) {
      await expectError(await request('POST', `/devices/dev1/messages/events?${API}`, { headers: { authorization }, body: 'x' }), 401, 'IotHubUnauthorized');
    }
    expect(await storedEvents('dev1')).toHaveLength(0);
  });

  test('a disabled device is refused with 401; enabled again it is served', async () => {
    const { device, service, createDevice } = await setup();
    const dev = await createDevice('dev1');
    const disable = (status: string) =>
      service('PUT', '/devices/dev1', { headers: { 'content-type': 'application/json', 'if-match': '*' }, body: JSON.stringify({ deviceId: 'dev1', status }) });
    expect((await disable('disabled')).status).toBe(200);
    await expectError(await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, { body: 'x' }), 401, 'IotHubUnauthorized', /disabled/);
    await expectError(await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`), 401, 'IotHubUnauthorized');
    expect((await disable('enabled')).status).toBe(200);
    expect((await device(dev, 'POST', `/devices/dev1/messages/events?${API}`, { body: 'x' })).status).toBe(204);
  });

  test('a policy token with DeviceConnect is accepted for any device; one without it is refused', async () => {
    const { request, createDevice, policyKey, expiry } = await setup();
    await createDevice('dev1');
    const withPolicy = (name: string) => sasRecipes.device(HOST, 'dev1', policyKey(name), expiry(), name);
    expect((await request('POST', `/devices/dev1/messages/events?${API}`, { headers: { authorization: withPolicy('device') }, body: 'x' })).status).toBe(204);
    await expectError(
      await request('POST', `/devices/dev1/messages/events?${API}`, { headers: { authorization: withPolicy('service') }, body: 'x' }),
      401,
      'IotHubUnauthorized',
      /DeviceConnect/,
    );
  });
});

describe('receiving cloud-to-device messages', () => {
  test('an empty queue answers 204 without a body', async () => {
    const { device, createDevice } = await setup();
    const dev = await createDevice('dev1');
    const response = await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  test('a message arrives with its body, lock token in ETag and iothub-* headers; complete removes it', async () => {
    const { device, createDevice, sendC2d, queue } = await setup();
    const dev = await createDevice('dev1');
    await sendC2d('dev1', 'open the valve', {
      'iothub-messageid': 'cmd-1',
      'iothub-correlationid': 'corr-1',
      'iothub-userid': 'ops',
      'iothub-ack': 'full',
      'iothub-app-mode': 'fast',
    });
    // The Node SDK spells it `devicebound`, the docs `deviceBound`.
    const response = await device(dev, 'GET', `/devices/dev1/messages/deviceBound?${API}`, { headers: { 'iothub-to': '/devices/dev1/messages/devicebound' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('open the valve');
    const etag = response.headers.get('etag')!;
    expect(etag).toMatch(/^"[0-9a-f-]{36}"$/);
    const lockToken = etag.slice(1, -1);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'iothub-messageid': 'cmd-1',
      'iothub-correlationid': 'corr-1',
      'iothub-userid': 'ops',
      'iothub-to': '/devices/dev1/messages/deviceBound',
      'iothub-ack': 'full',
      'iothub-deliverycount': '0',
      'iothub-app-mode': 'fast',
    });
    expect(Number(response.headers.get('iothub-sequencenumber'))).toBeGreaterThan(0);
    expect(Date.parse(response.headers.get('iothub-enqueuedtime')!)).toBeLessThan(Date.parse(response.headers.get('iothub-expiry')!));
    expect(response.headers.get('iothub-app-iothub-ack')).toBeNull();
    // Locked: not handed out twice.
    expect((await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`)).status).toBe(204);

    const completed = await device(dev, 'DELETE', `/devices/dev1/messages/devicebound/${lockToken}?${API}`, { headers: { 'If-Match': lockToken } });
    expect(completed.status).toBe(204);
    expect(await queue('dev1')).toEqual([]);
    // Settled once: the lock is gone.
    await expectError(
      await device(dev, 'DELETE', `/devices/dev1/messages/devicebound/${lockToken}?${API}`, { headers: { 'If-Match': lockToken } }),
      412,
      'DeviceMessageLockLost',
    );
  });

  test.each([['&reject'], ['&reject=true'], ['&Reject=TRUE']])('DELETE with %s rejects: the message leaves the queue', async (flag) => {
    const { device, createDevice, sendC2d, queue } = await setup();
    const dev = await createDevice('dev1');
    await sendC2d('dev1', 'bad command');
    const lockToken = (await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`)).headers.get('etag')!.slice(1, -1);
    const rejected = await device(dev, 'DELETE', `/devices/dev1/messages/devicebound/${lockToken}?${API}${flag}`, { headers: { 'If-Match': lockToken } });
    expect(rejected.status).toBe(204);
    expect(await queue('dev1')).toEqual([]);
  });

  test('a reject flag with another value is refused with 400 and settles nothing', async () => {
    const { device, createDevice, sendC2d, queue } = await setup();
    const dev = await createDevice('dev1');
    await sendC2d('dev1', 'x');
    const lockToken = (await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`)).headers.get('etag')!.slice(1, -1);
    await expectError(await device(dev, 'DELETE', `/devices/dev1/messages/devicebound/${lockToken}?reject=maybe`), 400, 'ArgumentInvalid');
    expect(await queue('dev1')).toHaveLength(1);
  });

  test('abandon gives the message back: it is received again with a higher delivery count', async () => {
    const { device, createDevice, sendC2d } = await setup();
    const dev = await createDevice('dev1');
    const messageId = await sendC2d('dev1', 'retry me');
    const first = await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`);
    const lockToken = first.headers.get('etag')!.slice(1, -1);
    const abandoned = await device(dev, 'POST', `/devices/dev1/messages/deviceBound/${lockToken}/Abandon?${API}`, { headers: { 'If-Match': lockToken } });
    expect(abandoned.status).toBe(204);
    const again = await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`);
    expect(again.status).toBe(200);
    expect(again.headers.get('iothub-messageid')).toBe(messageId);
    expect(again.headers.get('iothub-deliverycount')).toBe('1');
    expect(again.headers.get('etag')).not.toBe(first.headers.get('etag'));
    expect(await again.text()).toBe('retry me');
  });

  test('settling after the lock ran out fails with 412 DeviceMessageLockLost; the message comes back', async () => {
    const { device, createDevice, sendC2d, clock, services } = await setup();
    const dev = await createDevice('dev1');
    await sendC2d('dev1', 'slow');
    const lockToken = (await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`)).headers.get('etag')!.slice(1, -1);
    clock.advance(services.c2d.options.lockDurationMs + 1);
    await expectError(await device(dev, 'DELETE', `/devices/dev1/messages/devicebound/${lockToken}?${API}`), 412, 'DeviceMessageLockLost');
    await expectError(await device(dev, 'POST', `/devices/dev1/messages/devicebound/${lockToken}/abandon?${API}`), 412, 'DeviceMessageLockLost');
    expect((await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`)).status).toBe(200);
  });

  test("an unknown lock token, or another device's, fails with 412 DeviceMessageLockLost", async () => {
    const { device, createDevice, sendC2d, queue } = await setup();
    const dev1 = await createDevice('dev1');
    const dev2 = await createDevice('dev2');
    await sendC2d('dev1', 'mine');
    const lockToken = (await device(dev1, 'GET', `/devices/dev1/messages/devicebound?${API}`)).headers.get('etag')!.slice(1, -1);
    await expectError(await device(dev2, 'DELETE', `/devices/dev2/messages/devicebound/${lockToken}?${API}`), 412, 'DeviceMessageLockLost');
    await expectError(await device(dev1, 'DELETE', `/devices/dev1/messages/devicebound/not-a-lock?${API}`), 412, 'DeviceMessageLockLost');
    expect(await queue('dev1')).toHaveLength(1);
  });

  test('an If-Match naming another lock token fails with 412 PreconditionFailed and settles nothing', async () => {
    const { device, createDevice, sendC2d, queue } = await setup();
    const dev = await createDevice('dev1');
    await sendC2d('dev1', 'x');
    const lockToken = (await device(dev, 'GET', `/devices/dev1/messages/devicebound?${API}`)).headers.get('etag')!.slice(1, -1);
    await expectError(
      await device(dev, 'DELETE', `/devices/dev1/messages/devicebound/${lockToken}?${API}`, { headers: { 'If-Match': 'other' } }),
      412,
      'PreconditionFailed',
    );
    // Quoted, it is the same lock token.
    expect((await device(dev, 'DELETE', `/devices/dev1/messages/devicebound/${lockToken}?${API}`, { headers: { 'If-Match': `"${lockToken}"` } })).status).toBe(204);
    expect(await queue('dev1')).toEqual([]);
  });

  test("another device's token cannot receive this device's messages (401)", async () => {
    const { request, createDevice, sendC2d, queue } = await setup();
    await createDevice('dev1');
    const dev2 = await createDevice('dev2');
    await sendC2d('dev1', 'secret');
    await expectError(
      await request('GET', `/devices/dev1/messages/devicebound?${API}`, { headers: { authorization: dev2.token() } }),
      401,
      'IotHubUnauthorized',
    );
    expect((await queue('dev1'))[0]!.deliveryCount).toBe(0);
  });

  test('the service API keeps its own routes on the same paths: POST …/deviceBound sends, device credentials cannot', async () => {
    const { device, createDevice, service, request, policyKey, expiry } = await setup();
    const dev = await createDevice('dev1');
    expect((await service('POST', '/devices/dev1/messages/devicebound', { body: 'x' })).status).toBe(204);
    await expectError(await device(dev, 'POST', '/devices/dev1/messages/deviceBound', { body: 'x' }), 401, 'IotHubUnauthorizedAccess');
    // The device's GET is not the service's: a policy token without DeviceConnect cannot receive.
    const serviceOnly = sasRecipes.service(HOST, 'service', policyKey('service'), expiry());
    await expectError(await request('GET', `/devices/dev1/messages/devicebound?${API}`, { headers: { authorization: serviceOnly } }), 401, 'IotHubUnauthorized');
  });
});
