/**
 * The C2D service routes over `app.request`, mounted beside the device routes as the service app
 * mounts them: send with `iothub-*` headers, the queue listing, purge, errors on the wire,
 * authorisation, and that nothing here swallows other `/devices/*` paths.
 */

import { describe, expect, test } from 'bun:test';
import { ServiceAuthenticator } from '../auth.ts';
import { Hono } from 'hono';
import {
  CloudToDeviceQueue,
  type CloudToDeviceOptions,
  createBuiltInPolicies,
  IdentityRegistry,
  notFound,
  PolicyAuthenticator,
  sasRecipes,
  silentLogger,
} from '@tributary/core';
import { createMemoryC2dStore, createMemoryStores, FakeClock } from '@tributary/core/testing';
import type { ServiceApiEnv } from '../context.ts';
import { createErrorHandler, restErrorResponse } from '../errors.ts';
import type { C2dMessageJson } from '../representation/c2d-json.ts';
import { cloudToDeviceRoutes } from './cloud-to-device.ts';
import { deviceRoutes } from './devices.ts';

const HOST = 'hub.test';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function setup(options: Partial<CloudToDeviceOptions> = {}) {
  const stores = createMemoryStores();
  const clock = new FakeClock();
  const policies = createBuiltInPolicies();
  for (const policy of policies) await stores.policies.upsert(policy);
  const registry = new IdentityRegistry({ store: stores.registry, clock });
  const authenticator = new ServiceAuthenticator(new PolicyAuthenticator({ policies: stores.policies, hostName: HOST, clock }));
  const queue = new CloudToDeviceQueue({ store: createMemoryC2dStore(stores.registry), clock, options });
  const app = new Hono<ServiceApiEnv>({ strict: false });
  app.onError(createErrorHandler(silentLogger));
  app.notFound((c) => restErrorResponse(notFound(`${c.req.method} ${c.req.path}`)));
  app.route('/devices', cloudToDeviceRoutes({ queue, authenticator }));
  app.route('/devices', deviceRoutes({ registry, authenticator }));
  await registry.createDevice({ deviceId: 'dev1' });

  const tokenFor = (keyName: string) => {
    const policy = policies.find((p) => p.keyName === keyName)!;
    return sasRecipes.service(HOST, keyName, policy.primaryKey, Math.floor(clock.now() / 1000) + 3600);
  };
  const call = (
    method: string,
    path: string,
    { body, headers = {}, policy = 'service' }: { body?: RequestInit['body']; headers?: Record<string, string>; policy?: string | null } = {},
  ) =>
    app.request(path, {
      method,
      headers: { ...(policy === null ? {} : { authorization: tokenFor(policy) }), ...headers },
      body,
    });
  const listQueue = async (deviceId = 'dev1') => {
    const response = await call('GET', `/devices/${deviceId}/commands?api-version=2021-04-12`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    return (await response.json()) as C2dMessageJson[];
  };
  return { app, clock, queue, registry, call, listQueue };
}

async function expectError(response: Response, status: number, name: string) {
  const text = await response.text();
  expect({ status: response.status, code: response.headers.get('iothub-errorcode') }).toEqual({ status, code: name });
  expect((JSON.parse(text) as { Message: string }).Message).toStartWith(`ErrorCode:${name};`);
}

describe('POST /devices/{id}/messages/deviceBound', () => {
  test('queues the raw body with the iothub-* headers as properties; 204 with the message id', async () => {
    const { call, listQueue, clock, registry } = await setup();
    const expiry = new Date(clock.now() + 2 * 3_600_000).toISOString();
    const response = await call('POST', '/devices/dev1/messages/deviceBound?api-version=2021-04-12', {
      body: new Uint8Array([0, 1, 254, 255]),
      headers: {
        'content-type': 'application/octet-stream',
        'iothub-messageid': 'm-1',
        'iothub-correlationid': 'c-1',
        'iothub-userid': 'ops',
        'iothub-contentencoding': 'utf-8',
        'iothub-ack': 'full',
        'iothub-expiry': expiry,
        'iothub-app-Color': 'blue',
        'iothub-to': '/devices/elsewhere/messages/deviceBound',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('iothub-messageid')).toBe('m-1');
    const [queued] = await listQueue();
    expect(queued).toEqual({
      messageId: 'm-1',
      sequenceNumber: expect.any(Number),
      correlationId: 'c-1',
      userId: 'ops',
      to: '/devices/dev1/messages/deviceBound',
      contentType: 'application/octet-stream',
      contentEncoding: 'utf-8',
      ack: 'full',
      enqueuedTimeUtc: new Date(clock.now()).toISOString(),
      expiryTimeUtc: expiry,
      deliveryCount: 0,
      lockedUntilUtc: null,
      properties: { color: 'blue', 'iothub-ack': 'full' },
      body: Buffer.from([0, 1, 254, 255]).toString('base64'),
      bodySizeInBytes: 4,
    });
    expect((await registry.getDevice('dev1')).cloudToDeviceMessageCount).toBe(1);
  });

  test('matches devicebound in any letter case, generates a message id and prefers iothub-contenttype', async () => {
    const { call, listQueue } = await setup();
    for (const path of ['/devices/dev1/messages/devicebound', '/devices/dev1/messages/DEVICEBOUND/']) {
      const response = await call('POST', path, {
        body: 'hello',
        headers: { 'content-type': 'text/plain', 'iothub-contenttype': 'application/json' },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('iothub-messageid')).toMatch(UUID);
    }
    const queued = await listQueue();
    expect(queued.map((message) => [message.contentType, message.ack, Buffer.from(message.body, 'base64').toString()])).toEqual([
      ['application/json', 'none', 'hello'],
      ['application/json', 'none', 'hello'],
    ]);
  });

  test('an empty body is a valid message', async () => {
    const { call, listQueue } = await setup();
    expect((await call('POST', '/devices/dev1/messages/deviceBound')).status).toBe(204);
    expect((await listQueue())[0]?.bodySizeInBytes).toBe(0);
  });

  test('a body over 64 KB fails with 413 MessageTooLarge, streamed or declared', async () => {
    const { call, listQueue } = await setup();
    await expectError(await call('POST', '/devices/dev1/messages/deviceBound', { body: new Uint8Array(64 * 1024 + 1) }), 413, 'MessageTooLarge');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(16 * 1024));
        controller.close();
      },
    });
    await expectError(await call('POST', '/devices/dev1/messages/deviceBound', { body: stream }), 413, 'MessageTooLarge');
    expect(await listQueue()).toEqual([]);
  });

  test.each([
    ['an unknown ack mode', { 'iothub-ack': 'sometimes' }],
    ['an expiry beyond 48 hours', { 'iothub-expiry': '2099-01-01T00:00:00Z' }],
    ['an unparsable expiry', { 'iothub-expiry': 'tomorrow' }],
  ])('%s fails with 400 ArgumentInvalid', async (_label, headers) => {
    const { call } = await setup();
    await expectError(await call('POST', '/devices/dev1/messages/deviceBound', { body: 'x', headers }), 400, 'ArgumentInvalid');
  });

  test('a device that is not registered fails with 404 DeviceNotFound, an invalid id with 400', async () => {
    const { call } = await setup();
    await expectError(await call('POST', '/devices/ghost/messages/deviceBound', { body: 'x' }), 404, 'DeviceNotFound');
    await expectError(await call('POST', `/devices/${'x'.repeat(129)}/messages/deviceBound`, { body: 'x' }), 400, 'ArgumentInvalid');
  });

  test('a full queue fails with 403 DeviceMaximumQueueDepthExceeded', async () => {
    const { call } = await setup({ maxQueueDepth: 1 });
    expect((await call('POST', '/devices/dev1/messages/deviceBound', { body: 'x' })).status).toBe(204);
    await expectError(await call('POST', '/devices/dev1/messages/deviceBound', { body: 'x' }), 403, 'DeviceMaximumQueueDepthExceeded');
  });
});

describe('/devices/{id}/commands', () => {
  test('GET lists the queue oldest first without locking it', async () => {
    const { call, listQueue, queue } = await setup();
    for (const id of ['a', 'b']) await call('POST', '/devices/dev1/messages/deviceBound', { body: id, headers: { 'iothub-messageid': id } });
    expect((await listQueue()).map((message) => message.messageId)).toEqual(['a', 'b']);
    const delivered = await queue.receive('dev1');
    expect(delivered?.messageId).toBe('a');
    const [first] = await listQueue();
    expect(first).toMatchObject({ deliveryCount: 1, lockedUntilUtc: new Date(delivered!.lockedUntil).toISOString() });
  });

  test('DELETE purges the queue and answers IoT Hub\u2019s PurgeMessageQueueResult', async () => {
    const { call, listQueue, registry } = await setup();
    await call('POST', '/devices/dev1/messages/deviceBound', { body: 'a' });
    await call('POST', '/devices/dev1/messages/deviceBound', { body: 'b' });
    const response = await call('DELETE', '/devices/dev1/commands?api-version=2021-04-12');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    expect(await response.json()).toEqual({ totalMessagesPurged: 2, deviceId: 'dev1', moduleId: null });
    expect(await listQueue()).toEqual([]);
    expect((await registry.getDevice('dev1')).cloudToDeviceMessageCount).toBe(0);
  });

  test('a device that is not registered fails with 404 DeviceNotFound', async () => {
    const { call } = await setup();
    await expectError(await call('DELETE', '/devices/ghost/commands'), 404, 'DeviceNotFound');
    await expectError(await call('GET', '/devices/ghost/commands'), 404, 'DeviceNotFound');
  });

  test('other methods get 405 with Allow: GET, DELETE', async () => {
    const { call } = await setup();
    const response = await call('PUT', '/devices/dev1/commands');
    await expectError(response, 405, 'GenericMethodNotAllowed');
    expect(response.headers.get('allow')).toBe('GET, DELETE');
  });
});

describe('authorisation and routing', () => {
  test.each([
    ['no token', null],
    ['a policy without ServiceConnect', 'registryReadWrite'],
  ])('%s is refused with 401 on every route', async (_label, policy) => {
    const { call } = await setup();
    for (const [method, path] of [
      ['POST', '/devices/dev1/messages/deviceBound'],
      ['GET', '/devices/dev1/commands'],
      ['DELETE', '/devices/dev1/commands'],
    ] as const) {
      await expectError(await call(method, path, { policy }), 401, 'IotHubUnauthorizedAccess');
    }
  });

  test('other /devices paths pass through: the device routes still answer, the device API\u2019s paths are not taken', async () => {
    const { call } = await setup();
    expect((await call('GET', '/devices/dev1', { policy: 'iothubowner' })).status).toBe(200);
    await expectError(await call('GET', '/devices/dev1/messages/devicebound'), 404, 'GenericNotFound');
    await expectError(await call('DELETE', '/devices/dev1/messages/devicebound/some-lock-token'), 404, 'GenericNotFound');
  });
});
