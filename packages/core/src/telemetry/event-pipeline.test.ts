/**
 * The event pipeline over the memory store and a fake clock. A gated store (each append waits
 * until the test releases or fails it) makes group commit, failures and ordering observable
 * without timing.
 */

import { describe, expect, test } from 'bun:test';
import { HubError } from '../errors.ts';
import type { LogFields, Logger } from '../log.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { MemoryEventStore } from '../testing/memory-event-store.ts';
import { EventPipeline, type EventPipelineDeps } from './event-pipeline.ts';
import type { EventInput } from './event-input.ts';
import type { EventRecord } from './event-stream.ts';
import { partitionFor } from './partitioner.ts';

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function input(deviceId: string, body: string, overrides: Partial<EventInput> = {}): EventInput {
  return {
    deviceId,
    moduleId: null,
    messageSource: 'Telemetry',
    systemProperties: {},
    applicationProperties: {},
    body: utf8.encode(body),
    connection: { authMethod: '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}', generationId: 'gen-1' },
    ...overrides,
  };
}

interface StoreCall {
  events: EventRecord[];
  release(): void;
  fail(error?: Error): void;
}

/** A memory store whose appends each wait for the test to release or fail them. */
class GatedStore extends MemoryEventStore {
  readonly calls: StoreCall[] = [];
  #callWaiters: { count: number; resolve(): void }[] = [];

  override async append(events: EventRecord[]): Promise<void> {
    let release!: () => void;
    let fail!: (error: Error) => void;
    const gate = new Promise<void>((resolve, reject) => {
      release = resolve;
      fail = reject;
    });
    this.calls.push({ events: [...events], release, fail: (error = new Error('disk full')) => fail(error) });
    for (const waiter of this.#callWaiters.filter((w) => this.calls.length >= w.count)) waiter.resolve();
    await gate;
    await super.append(events);
  }

  /** Resolves with the `n`th call (1-based) once it has been made. */
  async call(n: number): Promise<StoreCall> {
    if (this.calls.length < n) await new Promise<void>((resolve) => this.#callWaiters.push({ count: n, resolve }));
    return this.calls[n - 1]!;
  }
}

function recordingLogger(): Logger & { lines: { level: string; event: string; fields: LogFields }[] } {
  const lines: { level: string; event: string; fields: LogFields }[] = [];
  const at = (level: string) => (event: string, fields: LogFields = {}) => lines.push({ level, event, fields });
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** Lets every pending promise callback run (no timers involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>) {
  const state = { isSettled: false };
  promise.then(
    () => (state.isSettled = true),
    () => (state.isSettled = true),
  );
  return state;
}

async function openPipeline(overrides: Partial<EventPipelineDeps> = {}) {
  const store = (overrides.store as GatedStore | undefined) ?? new GatedStore();
  const clock = new FakeClock(Date.UTC(2026, 5, 1, 12, 0, 0, 0));
  const pipeline = new EventPipeline({ store, clock, ...overrides });
  await pipeline.start();
  return { pipeline, store: store as GatedStore, clock };
}

/** Same-partition device ids (for a 4-partition stream). */
function devicesOfOnePartition(count: number, partitionCount = 4): string[] {
  const target = partitionFor('device-0', partitionCount);
  const ids: string[] = [];
  for (let i = 0; ids.length < count; i++) if (partitionFor(`device-${i}`, partitionCount) === target) ids.push(`device-${i}`);
  return ids;
}

describe('stamping and positions', () => {
  test('the hub stamps connection, time and source properties, overwriting any the device sent', async () => {
    const { pipeline, store, clock } = await openPipeline({ store: new MemoryEventStore() as GatedStore });
    const record = await pipeline.append(
      input('thermostat', '{"t":21}', {
        moduleId: 'sensor',
        systemProperties: {
          'message-id': 'm-1',
          'content-type': 'application/json',
          ...({ 'iothub-connection-device-id': 'spoofed', 'iothub-message-source': 'deviceLifecycleEvents' } as object),
        },
        applicationProperties: { alert: 'high' },
      }),
    );
    expect(record.systemProperties).toEqual({
      'message-id': 'm-1',
      'content-type': 'application/json',
      'iothub-connection-device-id': 'thermostat',
      'iothub-connection-module-id': 'sensor',
      'iothub-connection-auth-method': '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}',
      'iothub-connection-auth-generation-id': 'gen-1',
      'iothub-enqueuedtime': '2026-06-01T12:00:00.000Z',
      'iothub-message-source': 'Telemetry',
    });
    expect(record).toMatchObject({
      partitionId: partitionFor('thermostat', 4),
      sequenceNumber: 0,
      offset: 0,
      enqueuedTime: clock.now(),
      deviceId: 'thermostat',
      moduleId: 'sensor',
      applicationProperties: { alert: 'high' },
    });
    expect(await store.read(record.partitionId, 'start', 10)).toEqual([record]);
  });

  test('events without a connection or module carry no auth or module stamps', async () => {
    const { pipeline } = await openPipeline({ store: new MemoryEventStore() as GatedStore });
    const record = await pipeline.append(
      input('twin-owner', '{}', {
        messageSource: 'twinChangeEvents',
        connection: undefined,
        systemProperties: { ...({ 'iothub-connection-module-id': 'spoofed' } as object) },
      }),
    );
    expect(Object.keys(record.systemProperties).sort()).toEqual([
      'iothub-connection-device-id',
      'iothub-enqueuedtime',
      'iothub-message-source',
    ]);
    expect(record.systemProperties['iothub-message-source']).toBe('twinChangeEvents');
  });

  test('sequence numbers count from 0 per partition and offsets advance by body length, at least 1', async () => {
    const { pipeline } = await openPipeline({ store: new MemoryEventStore() as GatedStore });
    const [a, b] = devicesOfOnePartition(2);
    const records = [];
    for (const [deviceId, body] of [[a, 'hello'], [b, ''], [a, 'xyz']] as const) records.push(await pipeline.append(input(deviceId!, body)));
    expect(records.map((r) => [r.sequenceNumber, r.offset])).toEqual([
      [0, 0],
      [1, 5],
      [2, 6],
    ]);
  });

  test('enqueued time never goes backwards within a partition when the clock does', async () => {
    const { pipeline, clock } = await openPipeline({ store: new MemoryEventStore() as GatedStore });
    const first = await pipeline.append(input('clocky', 'a'));
    clock.advance(-5_000);
    const second = await pipeline.append(input('clocky', 'b'));
    expect(second.enqueuedTime).toBe(first.enqueuedTime);
    clock.advance(10_000);
    expect((await pipeline.append(input('clocky', 'c'))).enqueuedTime).toBe(first.enqueuedTime + 5_000);
  });
});

describe('group commit', () => {
  test('append resolves only after the store committed its batch', async () => {
    const { pipeline, store } = await openPipeline();
    const appended = pipeline.append(input('d1', 'x'));
    const state = track(appended);
    const call = await store.call(1);
    await settle();
    expect(state.isSettled).toBe(false);
    expect(await store.read(call.events[0]!.partitionId, 'start', 10)).toEqual([]);
    call.release();
    const record = await appended;
    expect(await store.read(record.partitionId, 'start', 10)).toEqual([record]);
  });

  test('while one batch is in flight, 50 concurrent appends all land in ONE next store call', async () => {
    const { pipeline, store } = await openPipeline();
    const first = pipeline.append(input('d-first', 'x'));
    await store.call(1); // in flight, not released yet
    const rest = Array.from({ length: 50 }, (_, i) => pipeline.append(input(`d-${i}`, `m${i}`)));
    await settle();
    expect(store.calls).toHaveLength(1);
    store.calls[0]!.release();
    (await store.call(2)).release();
    await Promise.all([first, ...rest]);
    expect(store.calls.map((c) => c.events.length)).toEqual([1, 50]);
  });

  test('batches hold at most maxBatchEvents events', async () => {
    const { pipeline, store } = await openPipeline({ maxBatchEvents: 20 });
    const all = Array.from({ length: 51 }, (_, i) => pipeline.append(input(`d-${i}`, 'x')));
    for (let n = 1; n <= 3; n++) (await store.call(n)).release();
    await Promise.all(all);
    expect(store.calls.map((c) => c.events.length)).toEqual([20, 20, 11]);
  });

  test('batches hold at most about maxBatchBytes, but always at least one event', async () => {
    const { pipeline, store } = await openPipeline({ maxBatchBytes: 250 });
    const big = pipeline.append(input('d-big', 'B'.repeat(1000)));
    const small = Array.from({ length: 5 }, (_, i) => pipeline.append(input(`d-${i}`, 'x'.repeat(100))));
    for (let n = 1; n <= 4; n++) (await store.call(n)).release();
    await Promise.all([big, ...small]);
    expect(store.calls.map((c) => c.events.length)).toEqual([1, 2, 2, 1]);
  });

  test('events of one partition are committed in the order append was called', async () => {
    const { pipeline, store } = await openPipeline({ maxBatchEvents: 7, store: new MemoryEventStore() as GatedStore });
    const appends = Array.from({ length: 120 }, (_, i) => pipeline.append(input(`device-${i % 9}`, String(i))));
    await Promise.all(appends);
    for (let partitionId = 0; partitionId < 4; partitionId++) {
      const events = await store.read(partitionId, 'start', 1000);
      const order = events.map((e) => Number(text(e.body)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(events.map((e) => e.sequenceNumber)).toEqual(events.map((_, i) => i));
      events.forEach((event, i) => i > 0 && expect(event.offset).toBe(events[i - 1]!.offset + events[i - 1]!.body.byteLength));
    }
  });
});

describe('commit lanes', () => {
  /** One device id per partition of a 4-partition stream, in partition order. */
  const onePerPartition = () => [0, 1, 2, 3].map((partitionId) => {
    for (let i = 0; ; i++) if (partitionFor(`device-${i}`, 4) === partitionId) return `device-${i}`;
  });

  test('each lane has its own batch in flight: a slow commit of one partition does not hold up the others', async () => {
    const { pipeline, store } = await openPipeline({ commitLanes: 4 });
    const [p0, p1, p2, p3] = onePerPartition();
    const slow = track(pipeline.append(input(p0!, 'slow')));
    const call1 = await store.call(1);
    const others = [p1, p2, p3].map((deviceId) => pipeline.append(input(deviceId!, 'x')));
    for (let n = 2; n <= 4; n++) (await store.call(n)).release();
    expect((await Promise.all(others)).map((record) => record.partitionId)).toEqual([1, 2, 3]);
    expect(slow.isSettled).toBe(false);
    // Meanwhile the slow partition's next messages wait for its lane, then go together, in order.
    const next = [pipeline.append(input(p0!, 'a')), pipeline.append(input(p0!, 'b'))];
    await settle();
    expect(store.calls).toHaveLength(4);
    call1.release();
    (await store.call(5)).release();
    expect((await Promise.all(next)).map((record) => [record.sequenceNumber, text(record.body)])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(store.calls[4]!.events.map((event) => text(event.body))).toEqual(['a', 'b']);
  });

  test('with fewer lanes than partitions, a lane batches its partitions together', async () => {
    const { pipeline, store } = await openPipeline({ commitLanes: 2 });
    const [p0, p1, p2, p3] = onePerPartition();
    const first = [pipeline.append(input(p0!, 'x')), pipeline.append(input(p1!, 'x'))];
    const [lane0, lane1] = [await store.call(1), await store.call(2)];
    const rest = [p0, p1, p2, p3].map((deviceId) => pipeline.append(input(deviceId!, 'y')));
    lane0.release();
    lane1.release();
    (await store.call(3)).release();
    (await store.call(4)).release();
    await Promise.all([...first, ...rest]);
    const partitionsOf = (n: number) => store.calls[n]!.events.map((event) => event.partitionId).sort();
    expect([partitionsOf(2), partitionsOf(3)].sort()).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  test('partitions stay in order and gap-free under load across lanes', async () => {
    const { pipeline, store } = await openPipeline({ commitLanes: 4, maxBatchEvents: 5, store: new MemoryEventStore() as GatedStore });
    await Promise.all(Array.from({ length: 200 }, (_, i) => pipeline.append(input(`device-${i % 13}`, String(i)))));
    for (let partitionId = 0; partitionId < 4; partitionId++) {
      const events = await store.read(partitionId, 'start', 1000);
      const order = events.map((e) => Number(text(e.body)));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(events.map((e) => e.sequenceNumber)).toEqual(events.map((_, i) => i));
    }
  });
});

describe('failures', () => {
  test('a failed batch rejects each of its messages with ServerError, leaves no gap, and the next batch works', async () => {
    const logger = recordingLogger();
    const { pipeline, store } = await openPipeline({ logger });
    const [a, b, c, d] = devicesOfOnePartition(4).map((deviceId, i) => ({ deviceId, body: `m${i}` }));
    const first = pipeline.append(input(a!.deviceId, a!.body));
    const call1 = await store.call(1);
    const failing = [pipeline.append(input(b!.deviceId, b!.body)), pipeline.append(input(c!.deviceId, c!.body))];
    call1.release();
    expect((await first).sequenceNumber).toBe(0);
    const call2 = await store.call(2);
    const later = pipeline.append(input(d!.deviceId, d!.body));
    call2.fail(new Error('connection reset'));
    for (const result of await Promise.allSettled(failing)) {
      expect(result.status).toBe('rejected');
      const error = (result as PromiseRejectedResult).reason as HubError;
      expect(error).toBeInstanceOf(HubError);
      expect(error.code).toBe('ServerError');
      expect((error.cause as Error).message).toBe('connection reset');
    }
    (await store.call(3)).release();
    const record = await later;
    expect([record.sequenceNumber, record.offset]).toEqual([1, 2]);
    const stored = await store.read(record.partitionId, 'start', 10);
    expect(stored.map((e) => [e.sequenceNumber, text(e.body)])).toEqual([
      [0, 'm0'],
      [1, 'm3'],
    ]);
    expect(logger.lines.filter((l) => l.event === 'event_batch_failed').map((l) => l.fields.events)).toEqual([2]);
  });

  test('append before start or after close is refused with ServiceUnavailable', async () => {
    const pipeline = new EventPipeline({ store: new MemoryEventStore(), clock: new FakeClock() });
    await expect(pipeline.append(input('d', 'x'))).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    await pipeline.start();
    await pipeline.close();
    await expect(pipeline.append(input('d', 'x'))).rejects.toMatchObject({ code: 'ServiceUnavailable' });
  });

  test('invalid limits are refused when the pipeline is built', () => {
    const deps = { store: new MemoryEventStore(), clock: new FakeClock() };
    expect(() => new EventPipeline({ ...deps, partitionCount: 0 })).toThrow(/partitionCount/);
    expect(() => new EventPipeline({ ...deps, maxBatchEvents: 0 })).toThrow(/maxBatchEvents/);
    expect(() => new EventPipeline({ ...deps, commitLanes: 0 })).toThrow(/commitLanes/);
    expect(() => new EventPipeline({ ...deps, partitionCount: 2, commitLanes: 3 })).toThrow(/commitLanes/);
  });
});

describe('subscribers', () => {
  test('subscribers see committed batches only, until they unsubscribe', async () => {
    const { pipeline, store } = await openPipeline();
    const seen: number[][] = [];
    const unsubscribe = pipeline.subscribe((events) => seen.push(events.map((e) => e.sequenceNumber)));
    const failed = pipeline.append(input('watched', 'lost'));
    (await store.call(1)).fail();
    await expect(failed).rejects.toBeInstanceOf(HubError);
    expect(seen).toEqual([]);
    const committed = [pipeline.append(input('watched', 'a'))];
    const call2 = await store.call(2);
    committed.push(pipeline.append(input('watched', 'b')));
    await settle();
    expect(seen).toEqual([]);
    call2.release();
    (await store.call(3)).release();
    await Promise.all(committed);
    expect(seen).toEqual([[0], [1]]);
    unsubscribe();
    expect(pipeline.subscriberCount).toBe(0);
    const after = pipeline.append(input('watched', 'c'));
    (await store.call(4)).release();
    await after;
    expect(seen).toEqual([[0], [1]]);
  });

  test('a throwing subscriber is logged and does not stop the others', async () => {
    const logger = recordingLogger();
    const { pipeline } = await openPipeline({ logger, store: new MemoryEventStore() as GatedStore });
    const seen: string[] = [];
    pipeline.subscribe(() => {
      throw new Error('boom');
    });
    pipeline.subscribe((events) => seen.push(...events.map((e) => e.deviceId)));
    await pipeline.append(input('d', 'x'));
    expect(seen).toEqual(['d']);
    expect(logger.lines.some((l) => l.level === 'error' && l.event === 'event_listener_failed')).toBe(true);
  });
});

describe('lifecycle', () => {
  test('a new pipeline over the same store continues every partition where the last one stopped', async () => {
    const store = new MemoryEventStore();
    const first = await openPipeline({ store: store as GatedStore });
    const before = [];
    for (let i = 0; i < 10; i++) before.push(await first.pipeline.append(input(`device-${i % 3}`, 'abc')));
    await first.pipeline.close();
    const second = await openPipeline({ store: store as GatedStore });
    for (let i = 0; i < 3; i++) {
      const deviceId = `device-${i}`;
      const last = before.filter((r) => r.partitionId === partitionFor(deviceId, 4)).at(-1)!;
      const next = await second.pipeline.append(input(deviceId, 'z'));
      expect([next.sequenceNumber, next.offset]).toEqual([last.sequenceNumber + 1, last.offset + last.body.byteLength]);
      before.push(next);
    }
  });

  test('close waits for accepted messages to commit', async () => {
    const { pipeline, store } = await openPipeline();
    const appends = [pipeline.append(input('d', 'a'))];
    const call1 = await store.call(1);
    appends.push(pipeline.append(input('d', 'b')));
    const closing = track(pipeline.close());
    call1.release();
    (await store.call(2)).release();
    await Promise.all(appends);
    await settle();
    expect(closing.isSettled).toBe(true);
    expect(store.calls).toHaveLength(2);
  });
});

describe('backpressure', () => {
  test('beyond maxQueuedEvents, appends wait outside the batch queue in order, so batches stay bounded', async () => {
    const { pipeline, store } = await openPipeline({ maxQueuedEvents: 2 });
    const [first] = [pipeline.append(input('device-0', '0'))];
    const call1 = await store.call(1);
    const rest = Array.from({ length: 4 }, (_, i) => pipeline.append(input('device-0', String(i + 1))));
    expect([pipeline.queuedEvents, pipeline.isSaturated]).toEqual([4, true]);
    call1.release();
    (await store.call(2)).release();
    (await store.call(3)).release();
    const records = await Promise.all([first!, ...rest]);
    expect(store.calls.map((c) => c.events.map((e) => text(e.body)))).toEqual([['0'], ['1', '2'], ['3', '4']]);
    expect(records.map((r) => r.sequenceNumber)).toEqual([0, 1, 2, 3, 4]);
    expect([pipeline.queuedEvents, pipeline.isSaturated]).toEqual([0, false]);
  });
});
