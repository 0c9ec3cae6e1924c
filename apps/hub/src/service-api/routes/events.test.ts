/**
 * The event stream routes over `app.request` with the service API's error mapper: partition
 * properties, reads by every kind of position, consumer groups and checkpoints, the SSE live
 * feed (read incrementally from the response body), and authorisation.
 */

import { describe, expect, test } from 'bun:test';
import { ServiceAuthenticator } from '../auth.ts';
import { Hono } from 'hono';
import {
  createBuiltInPolicies,
  type EventInput,
  EventPipeline,
  notFound,
  partitionFor,
  PolicyAuthenticator,
  sasRecipes,
  silentLogger,
} from '@tributary/core';
import { createMemoryStores, FakeClock, MemoryEventStore } from '@tributary/core/testing';
import type { ServiceApiEnv } from '../context.ts';
import { createErrorHandler, restErrorResponse } from '../errors.ts';
import type { CheckpointJson, EventJson, PartitionJson } from '../representation/event-json.ts';
import { eventRoutes } from './events.ts';

const HOST = 'hub.test';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const PARTITIONS = 4;
const HEARTBEAT_MS = 15_000;

interface Page {
  events: EventJson[];
  nextSequenceNumber: number;
}

const message = (deviceId: string, body: string | Uint8Array, moduleId: string | null = null): EventInput => ({
  deviceId,
  moduleId,
  messageSource: 'Telemetry',
  systemProperties: { 'content-type': 'application/json' },
  applicationProperties: { kind: 'reading' },
  body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
  connection: { authMethod: '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}', generationId: 'g1' },
});

/** Device ids that all hash to one partition. */
function devicesIn(partitionId: number, count: number): string[] {
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (partitionFor(`dev-${i}`, PARTITIONS) === partitionId) ids.push(`dev-${i}`);
  return ids;
}

async function setup() {
  const store = new MemoryEventStore();
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
  const policies = createBuiltInPolicies();
  const stores = createMemoryStores();
  for (const policy of policies) await stores.policies.upsert(policy);
  const authenticator = new ServiceAuthenticator(new PolicyAuthenticator({ policies: stores.policies, hostName: HOST, clock }));
  const pipeline = new EventPipeline({ store, clock, partitionCount: PARTITIONS });
  await pipeline.start();
  const app = new Hono<ServiceApiEnv>({ strict: false });
  app.onError(createErrorHandler(silentLogger));
  app.notFound((c) => restErrorResponse(notFound(`${c.req.method} ${c.req.path}`)));
  app.route('/events', eventRoutes({ pipeline, store, authenticator, partitionCount: PARTITIONS, clock, liveHeartbeatMs: HEARTBEAT_MS }));

  const tokenFor = (keyName: string) => {
    const policy = policies.find((p) => p.keyName === keyName)!;
    return sasRecipes.service(HOST, keyName, policy.primaryKey, Math.floor(clock.now() / 1000) + 3600);
  };
  const call = (method: string, path: string, { body, policy = 'service' }: { body?: unknown; policy?: string | null } = {}) =>
    app.request(path, {
      method,
      headers: {
        ...(policy === null ? {} : { authorization: tokenFor(policy) }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const json = async <T>(response: Response, status = 200): Promise<T> => {
    const text = await response.text();
    if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    return JSON.parse(text) as T;
  };
  const page = async (query: string, partitionId = 0) => json<Page>(await call('GET', `/events/partitions/${partitionId}${query}`));
  return { app, store, clock, pipeline, call, json, page };
}

async function expectError(response: Response, status: number, name: string, mentions?: string | RegExp) {
  const text = await response.text();
  expect({ status: response.status, code: response.headers.get('iothub-errorcode') }).toEqual({ status, code: name });
  const body = JSON.parse(text) as { Message: string };
  expect(body.Message).toStartWith(`ErrorCode:${name};`);
  if (mentions !== undefined) expect(body.Message).toMatch(mentions);
}

const sequenceNumbers = (page: Page) => page.events.map((event) => event.sequenceNumber);

describe('GET /events/partitions', () => {
  test('lists every partition, empty ones at -1 and used ones with their last event', async () => {
    const { pipeline, call, json, clock } = await setup();
    const [device] = devicesIn(2, 1);
    await pipeline.append(message(device!, 'abcd'));
    await pipeline.append(message(device!, 'xy'));
    const partitions = await json<PartitionJson[]>(await call('GET', '/events/partitions'));
    expect(partitions).toHaveLength(PARTITIONS);
    expect(partitions[0]).toEqual({
      partitionId: '0',
      beginningSequenceNumber: -1,
      lastEnqueuedSequenceNumber: -1,
      lastEnqueuedOffset: '-1',
      lastEnqueuedTimeUtc: null,
      isEmpty: true,
    });
    expect(partitions[2]).toEqual({
      partitionId: '2',
      beginningSequenceNumber: 0,
      lastEnqueuedSequenceNumber: 1,
      lastEnqueuedOffset: '4',
      lastEnqueuedTimeUtc: new Date(clock.now()).toISOString(),
      isEmpty: false,
    });
  });
});

describe('GET /events/partitions/{p}', () => {
  async function withFiveEvents() {
    const context = await setup();
    const [a, b] = devicesIn(1, 2);
    for (let i = 0; i < 5; i++) {
      await context.pipeline.append(message(i === 3 ? b! : a!, `{"i":${i}}`));
      context.clock.advance(1000);
    }
    return { ...context, a: a!, b: b!, start: Date.UTC(2026, 5, 1, 12, 0, 0) };
  }

  test('an event reads back as JSON with base64 and UTF-8 text bodies, string offsets and ISO times', async () => {
    const { pipeline, page } = await setup();
    const [device] = devicesIn(0, 1);
    await pipeline.append(message(device!, '{"temperature":21.5}', 'sensor'));
    const { events } = await page('?from=start');
    expect(events).toEqual([
      {
        partitionId: '0',
        sequenceNumber: 0,
        offset: '0',
        enqueuedTimeUtc: '2026-06-01T12:00:00.000Z',
        deviceId: device!,
        moduleId: 'sensor',
        systemProperties: expect.objectContaining({
          'content-type': 'application/json',
          'iothub-connection-device-id': device!,
          'iothub-connection-module-id': 'sensor',
          'iothub-message-source': 'Telemetry',
        }),
        properties: { kind: 'reading' },
        body: Buffer.from('{"temperature":21.5}').toString('base64'),
        bodyText: '{"temperature":21.5}',
      },
    ]);
  });

  test('a body that is not valid UTF-8 has no bodyText', async () => {
    const { pipeline, page } = await setup();
    const [device] = devicesIn(0, 1);
    await pipeline.append(message(device!, new Uint8Array([0xff, 0xfe, 0x00])));
    const [event] = (await page('')).events;
    expect(event!.body).toBe('//4A');
    expect(event).not.toHaveProperty('bodyText');
  });

  test('reads start at a sequence number, an offset, an enqueued time, the start or the end', async () => {
    const { page, start } = await withFiveEvents();
    expect(sequenceNumbers(await page('?fromSequenceNumber=3', 1))).toEqual([3, 4]);
    expect(sequenceNumbers(await page('?fromOffset=14', 1))).toEqual([2, 3, 4]);
    expect(sequenceNumbers(await page(`?fromEnqueuedTime=${new Date(start + 2000).toISOString()}`, 1))).toEqual([2, 3, 4]);
    expect(sequenceNumbers(await page(`?fromEnqueuedTime=2026-06-01T14:00:03%2B02:00`, 1))).toEqual([3, 4]);
    expect(sequenceNumbers(await page('?from=start', 1))).toEqual([0, 1, 2, 3, 4]);
    expect(await page('?from=end', 1)).toEqual({ events: [], nextSequenceNumber: 5 });
  });

  test('maxCount bounds the page and nextSequenceNumber continues after it', async () => {
    const { page } = await withFiveEvents();
    const first = await page('?maxCount=2', 1);
    expect([sequenceNumbers(first), first.nextSequenceNumber]).toEqual([[0, 1], 2]);
    const second = await page(`?fromSequenceNumber=${first.nextSequenceNumber}&maxCount=1000`, 1);
    expect([sequenceNumbers(second), second.nextSequenceNumber]).toEqual([[2, 3, 4], 5]);
    expect(await page('?fromSequenceNumber=9', 1)).toEqual({ events: [], nextSequenceNumber: 9 });
    expect(await page(`?fromEnqueuedTime=2030-01-01T00:00:00Z`, 1)).toEqual({ events: [], nextSequenceNumber: 5 });
  });

  test('deviceId filters the events read, and nextSequenceNumber still moves past the others', async () => {
    const { page, b } = await withFiveEvents();
    const filtered = await page(`?deviceId=${b}&maxCount=3`, 1);
    expect([sequenceNumbers(filtered), filtered.nextSequenceNumber]).toEqual([[], 3]);
    const next = await page(`?deviceId=${b}&fromSequenceNumber=3`, 1);
    expect([sequenceNumbers(next), next.nextSequenceNumber]).toEqual([[3], 5]);
  });

  test('bad positions and counts are 400 ArgumentInvalid naming the parameter', async () => {
    const { call } = await setup();
    const cases: [string, RegExp][] = [
      ['?fromSequenceNumber=-1', /fromSequenceNumber/],
      ['?fromOffset=abc', /fromOffset/],
      ['?fromEnqueuedTime=yesterday', /fromEnqueuedTime/],
      ['?fromEnqueuedTime=2026-06-01T12:00:00', /fromEnqueuedTime/],
      ['?from=middle', /from must be/],
      ['?fromSequenceNumber=1&fromOffset=2', /fromSequenceNumber, fromOffset/],
      ['?maxCount=0', /maxCount/],
      ['?maxCount=1001', /maxCount/],
      ['?deviceId=', /deviceId/],
    ];
    for (const [query, mentions] of cases) {
      await expectError(await call('GET', `/events/partitions/0${query}`), 400, 'ArgumentInvalid', mentions);
    }
  });

  test('a partition outside 0…partitionCount-1 is 404 GenericNotFound', async () => {
    const { call } = await setup();
    await expectError(await call('GET', '/events/partitions/4'), 404, 'GenericNotFound', /Partition '4'/);
    await expectError(await call('GET', '/events/partitions/x'), 404, 'GenericNotFound');
  });
});

describe('consumer groups', () => {
  test('$Default is listed; PUT creates a group (201) and is idempotent (200)', async () => {
    const { call, json } = await setup();
    expect(await json(await call('GET', '/events/consumerGroups'))).toEqual([{ name: '$Default' }]);
    expect(await json(await call('PUT', '/events/consumerGroups/analytics'), 201)).toEqual({ name: 'analytics' });
    expect(await json(await call('PUT', '/events/consumerGroups/analytics'), 200)).toEqual({ name: 'analytics' });
    expect(await json(await call('PUT', '/events/consumerGroups/$Default'), 200)).toEqual({ name: '$Default' });
    expect(await json(await call('GET', '/events/consumerGroups'))).toEqual([{ name: '$Default' }, { name: 'analytics' }]);
  });

  test('DELETE removes a group (204); a missing one is 404; $Default is refused with 400', async () => {
    const { call, json } = await setup();
    await call('PUT', '/events/consumerGroups/temp');
    expect((await call('DELETE', '/events/consumerGroups/temp')).status).toBe(204);
    expect(await json(await call('GET', '/events/consumerGroups'))).toEqual([{ name: '$Default' }]);
    await expectError(await call('DELETE', '/events/consumerGroups/temp'), 404, 'GenericNotFound', /temp/);
    await expectError(await call('DELETE', '/events/consumerGroups/$Default'), 400, 'ArgumentInvalid', /\$Default/);
  });

  test('invalid names are 400 ArgumentInvalid', async () => {
    const { call } = await setup();
    await expectError(await call('PUT', `/events/consumerGroups/${'x'.repeat(51)}`), 400, 'ArgumentInvalid', /Consumer group name/);
    await expectError(await call('PUT', '/events/consumerGroups/has%20space'), 400, 'ArgumentInvalid');
  });
});

describe('checkpoints', () => {
  test('PUT stores a checkpoint per partition, replacing the last; GET lists them with the time', async () => {
    const { call, json, clock } = await setup();
    await call('PUT', '/events/consumerGroups/reader');
    const stored = await json<CheckpointJson>(
      await call('PUT', '/events/consumerGroups/reader/checkpoints/1', { body: { sequenceNumber: 4, offset: '40' } }),
    );
    expect(stored).toEqual({ consumerGroup: 'reader', partitionId: '1', sequenceNumber: 4, offset: '40', updatedTimeUtc: new Date(clock.now()).toISOString() });
    clock.advance(1000);
    await call('PUT', '/events/consumerGroups/reader/checkpoints/1', { body: { sequenceNumber: 7, offset: 70 } });
    await call('PUT', '/events/consumerGroups/reader/checkpoints/0', { body: { sequenceNumber: 1, offset: '5' } });
    const listed = await json<CheckpointJson[]>(await call('GET', '/events/consumerGroups/reader/checkpoints'));
    expect(listed.map((c) => [c.partitionId, c.sequenceNumber, c.offset])).toEqual([
      ['0', 1, '5'],
      ['1', 7, '70'],
    ]);
  });

  test('$Default takes checkpoints without being created', async () => {
    const { call, json } = await setup();
    await json(await call('PUT', '/events/consumerGroups/$Default/checkpoints/3', { body: { sequenceNumber: 0, offset: '0' } }));
    expect(await json<CheckpointJson[]>(await call('GET', '/events/consumerGroups/%24Default/checkpoints'))).toHaveLength(1);
  });

  test('a missing group is 404; a bad partition 404; a bad body 400 naming the field', async () => {
    const { call } = await setup();
    await expectError(await call('GET', '/events/consumerGroups/nobody/checkpoints'), 404, 'GenericNotFound', /nobody/);
    await expectError(
      await call('PUT', '/events/consumerGroups/nobody/checkpoints/0', { body: { sequenceNumber: 1, offset: '1' } }),
      404,
      'GenericNotFound',
    );
    await call('PUT', '/events/consumerGroups/reader');
    await expectError(await call('PUT', '/events/consumerGroups/reader/checkpoints/9', { body: { sequenceNumber: 1, offset: '1' } }), 404, 'GenericNotFound');
    await expectError(await call('PUT', '/events/consumerGroups/reader/checkpoints/0', { body: { sequenceNumber: -1, offset: '1' } }), 400, 'ArgumentInvalid', /sequenceNumber/);
    await expectError(await call('PUT', '/events/consumerGroups/reader/checkpoints/0', { body: { sequenceNumber: 1 } }), 400, 'ArgumentInvalid', /offset/);
  });
});

const bodyReaderOf = (response: Response) => response.body!.getReader();
type BodyReader = ReturnType<typeof bodyReaderOf>;

/** Reads the SSE body chunk by chunk until `text` holds what `isDone` wants. */
async function readUntil(reader: BodyReader, state: { text: string }, isDone: (text: string) => boolean) {
  const decoder = new TextDecoder();
  while (!isDone(state.text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended before the expected data; got: ${state.text}`);
    state.text += decoder.decode(value, { stream: true });
  }
}

const sseMessages = (text: string) =>
  text
    .split('\n\n')
    .filter((block) => block.startsWith('event: message\n'))
    .map((block) => JSON.parse(block.split('\n')[1]!.slice('data: '.length)) as EventJson);

describe('GET /events/live', () => {
  test('streams each event committed after subscribing, filtered by device and module, as SSE messages', async () => {
    const { call, pipeline } = await setup();
    const response = await call('GET', '/events/live?deviceId=watched&moduleId=sensor');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toStartWith('text/event-stream');
    const reader = bodyReaderOf(response);
    const state = { text: '' };
    await readUntil(reader, state, (text) => text.includes(': connected'));
    await pipeline.append(message('other', 'not for you'));
    await pipeline.append(message('watched', 'device level'));
    await pipeline.append(message('watched', '{"t":1}', 'sensor'));
    await readUntil(reader, state, (text) => text.includes('event: message'));
    expect(sseMessages(state.text).map((event) => [event.deviceId, event.moduleId, event.bodyText])).toEqual([['watched', 'sensor', '{"t":1}']]);
    await reader.cancel();
  });

  test('sends a heartbeat comment every 15 s of the clock', async () => {
    const { call, clock } = await setup();
    const reader = bodyReaderOf(await call('GET', '/events/live'));
    const state = { text: '' };
    await readUntil(reader, state, (text) => text.includes(': connected'));
    clock.advance(HEARTBEAT_MS);
    await readUntil(reader, state, (text) => text.includes(': heartbeat'));
    clock.advance(HEARTBEAT_MS);
    await readUntil(reader, state, (text) => text.split(': heartbeat').length === 3);
    await reader.cancel();
  });

  test('unsubscribes from the pipeline when the client goes away', async () => {
    const { call, pipeline } = await setup();
    const reader = bodyReaderOf(await call('GET', '/events/live'));
    await readUntil(reader, { text: '' }, (text) => text.includes(': connected'));
    expect(pipeline.subscriberCount).toBe(1);
    await reader.cancel();
    for (let i = 0; i < 20 && pipeline.subscriberCount > 0; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(pipeline.subscriberCount).toBe(0);
  });
});

describe('authorisation', () => {
  test('every route needs ServiceConnect: registryRead gets 401, no token gets 401', async () => {
    const { call } = await setup();
    const paths: [string, string][] = [
      ['GET', '/events/partitions'],
      ['GET', '/events/partitions/0'],
      ['GET', '/events/consumerGroups'],
      ['PUT', '/events/consumerGroups/g'],
      ['DELETE', '/events/consumerGroups/g'],
      ['GET', '/events/consumerGroups/$Default/checkpoints'],
      ['PUT', '/events/consumerGroups/$Default/checkpoints/0'],
      ['GET', '/events/live'],
    ];
    for (const [method, path] of paths) {
      await expectError(await call(method, path, { policy: 'registryRead' }), 401, 'IotHubUnauthorizedAccess');
      await expectError(await call(method, path, { policy: null }), 401, 'IotHubUnauthorizedAccess');
    }
    expect((await call('GET', '/events/partitions', { policy: 'iothubowner' })).status).toBe(200);
  });

  test('other methods get 405 with Allow', async () => {
    const { call } = await setup();
    const response = await call('POST', '/events/partitions/0');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
