/**
 * The C2D life cycle on in-memory stores and a fake clock: depth limit, TTL, locks and
 * settlements, delivery count and dead-lettering, expiry, purge, feedback per ack mode, and when
 * the notifier fires.
 */

import { describe, expect, test } from 'bun:test';
import { HubError, type HubErrorName } from '../errors.ts';
import { IdentityRegistry } from '../identity/registry.ts';
import type { LogFields, Logger } from '../log.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { createMemoryC2dStore } from '../testing/memory-c2d-store.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import type { C2dAck, CloudToDeviceMessageInput } from './c2d-message.ts';
import { type CloudToDeviceOptions, CloudToDeviceQueue, parseC2dOptions } from './c2d-queue.ts';
import type { C2dStore } from './c2d-store.ts';
import type { FeedbackStatusCode } from './feedback.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const text = (value: string) => new TextEncoder().encode(value);

async function rejectsWith(promise: Promise<unknown>, code: HubErrorName): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code).toBe(code);
  return error as HubError;
}

interface SetupOptions {
  options?: Partial<CloudToDeviceOptions>;
  wrapStore?: (store: C2dStore) => C2dStore;
  onMessageQueued?: (deviceId: string) => void;
  logger?: Logger;
}

async function setup({ options, wrapStore = (store) => store, onMessageQueued, logger }: SetupOptions = {}) {
  const stores = createMemoryStores();
  const clock = new FakeClock();
  const registry = new IdentityRegistry({ store: stores.registry, clock });
  const store = wrapStore(createMemoryC2dStore(stores.registry));
  const notified: string[] = [];
  const queue = new CloudToDeviceQueue({
    store,
    clock,
    options,
    logger,
    notifier: { onMessageQueued: onMessageQueued ?? ((deviceId) => notified.push(deviceId)) },
  });
  await registry.createDevice({ deviceId: 'dev1' });
  await registry.createDevice({ deviceId: 'dev2' });
  const send = (input: Partial<CloudToDeviceMessageInput> = {}, deviceId = 'dev1') =>
    queue.send(deviceId, { body: text('hello'), ...input });
  const messageCount = async (deviceId = 'dev1') => (await registry.getDevice(deviceId)).cloudToDeviceMessageCount;
  const feedback = async () => (await queue.takeFeedback(1000)).map((record) => record.statusCode);
  return { queue, clock, registry, stores, notified, send, messageCount, feedback };
}

describe('send', () => {
  test('queues a message with a generated UUID, the deviceBound address, a 1 hour TTL and the registry count', async () => {
    const { send, clock, messageCount } = await setup();
    const message = await send();
    expect(message.messageId).toMatch(UUID);
    expect(message.systemProperties).toEqual({ 'message-id': message.messageId, to: '/devices/dev1/messages/deviceBound' });
    expect(message).toMatchObject({ deviceId: 'dev1', ack: 'none', deliveryCount: 0, lockToken: null, lockedUntil: null });
    expect(message.enqueuedTime).toBe(clock.now());
    expect(message.expiryTime).toBe(clock.now() + HOUR_MS);
    expect(await messageCount()).toBe(1);
  });

  test('keeps the sender\u2019s ids and properties and normalises iothub-ack, which devices read as a property', async () => {
    const { send } = await setup();
    const message = await send({
      systemProperties: { 'message-id': 'm-1', 'correlation-id': 'c-1', 'user-id': 'u', 'content-type': 'application/json' },
      applicationProperties: { 'iothub-ack': 'FULL', color: 'blue' },
    });
    expect(message.messageId).toBe('m-1');
    expect(message.systemProperties).toMatchObject({ 'correlation-id': 'c-1', 'user-id': 'u', 'content-type': 'application/json' });
    expect(message.applicationProperties).toEqual({ color: 'blue', 'iothub-ack': 'full' });
    expect(message.ack).toBe('full');
    const overridden = await send({ ack: 'positive', applicationProperties: { 'iothub-ack': 'negative' } });
    expect([overridden.ack, overridden.applicationProperties]).toEqual(['positive', { 'iothub-ack': 'positive' }]);
    const none = await send({ applicationProperties: { 'iothub-ack': 'none' } });
    expect([none.ack, none.applicationProperties]).toEqual(['none', {}]);
  });

  test('an unknown ack mode fails with ArgumentInvalid', async () => {
    const { send } = await setup();
    await rejectsWith(send({ ack: 'sometimes' }), 'ArgumentInvalid');
  });

  test('an absolute expiry up to 48 hours ahead is kept; further, past or unparsable fails with ArgumentInvalid', async () => {
    const { send, clock } = await setup();
    const at = (ms: number) => ({ systemProperties: { 'absolute-expiry-time': new Date(clock.now() + ms).toISOString() } });
    expect((await send(at(48 * HOUR_MS))).expiryTime).toBe(clock.now() + 48 * HOUR_MS);
    expect((await send(at(MINUTE_MS))).expiryTime).toBe(clock.now() + MINUTE_MS);
    await rejectsWith(send(at(48 * HOUR_MS + 1)), 'ArgumentInvalid');
    await rejectsWith(send(at(0)), 'ArgumentInvalid');
    await rejectsWith(send({ systemProperties: { 'absolute-expiry-time': 'tomorrow' } }), 'ArgumentInvalid');
  });

  test('the default TTL is an option', async () => {
    const { send, clock } = await setup({ options: { defaultTtlMs: 5 * MINUTE_MS } });
    expect((await send()).expiryTime).toBe(clock.now() + 5 * MINUTE_MS);
  });

  test('64 KB of body and properties is accepted, one byte more fails with MessageTooLarge', async () => {
    const { send } = await setup();
    const properties = { systemProperties: { 'message-id': 'm' }, applicationProperties: { k: 'v' } };
    // message-id=m, to=/devices/dev1/messages/deviceBound, k=v
    const propertyBytes = 'message-id'.length + 1 + 'to'.length + '/devices/dev1/messages/deviceBound'.length + 2;
    await send({ body: new Uint8Array(64 * 1024 - propertyBytes), ...properties });
    const error = await rejectsWith(send({ body: new Uint8Array(64 * 1024 - propertyBytes + 1), ...properties }), 'MessageTooLarge');
    expect(error.status).toBe(413);
  });

  test('a message for a device that is not registered fails with DeviceNotFound and notifies nobody', async () => {
    const { send, notified } = await setup();
    await rejectsWith(send({}, 'ghost'), 'DeviceNotFound');
    expect(notified).toEqual([]);
  });

  test('the 51st message fails with DeviceMaximumQueueDepthExceeded; settling one makes room', async () => {
    const { send, queue, messageCount } = await setup();
    for (let i = 0; i < 50; i++) await send();
    const error = await rejectsWith(send(), 'DeviceMaximumQueueDepthExceeded');
    expect(error.numericCode).toBe(403004);
    expect(await messageCount()).toBe(50);
    await send({}, 'dev2');
    const first = await queue.receive('dev1');
    await queue.complete('dev1', first!.lockToken!);
    await send();
    expect(await messageCount()).toBe(50);
  });

  test('expired messages do not count against the depth limit', async () => {
    const { send, clock } = await setup({ options: { maxQueueDepth: 2 } });
    await send();
    await send();
    await rejectsWith(send(), 'DeviceMaximumQueueDepthExceeded');
    clock.advance(HOUR_MS);
    await send();
  });
});

describe('receive and settle', () => {
  test('delivers in FIFO order, each message locked for 60 s under a new lock token', async () => {
    const { send, queue, clock } = await setup();
    const first = await send();
    const second = await send();
    const delivered = await queue.receive('dev1');
    expect(delivered).toMatchObject({ messageId: first.messageId, deliveryCount: 1, lockedUntil: clock.now() + MINUTE_MS });
    expect(delivered!.lockToken).toMatch(UUID);
    expect((await queue.receive('dev1'))?.messageId).toBe(second.messageId);
    expect(await queue.receive('dev1')).toBeUndefined();
  });

  test('receive on an empty queue returns nothing; on a missing device fails with DeviceNotFound', async () => {
    const { queue } = await setup();
    expect(await queue.receive('dev1')).toBeUndefined();
    await rejectsWith(queue.receive('ghost'), 'DeviceNotFound');
  });

  test('an unsettled message comes back when its lock runs out, counting a second delivery', async () => {
    const { send, queue, clock } = await setup();
    await send();
    const first = await queue.receive('dev1');
    clock.advance(MINUTE_MS - 1);
    expect(await queue.receive('dev1')).toBeUndefined();
    clock.advance(1);
    const again = await queue.receive('dev1');
    expect(again).toMatchObject({ messageId: first!.messageId, deliveryCount: 2 });
    expect(again!.lockToken).not.toBe(first!.lockToken);
    await rejectsWith(queue.complete('dev1', first!.lockToken!), 'DeviceMessageLockLost');
  });

  test('complete removes the message; completing it again fails with DeviceMessageLockLost', async () => {
    const { send, queue, messageCount } = await setup();
    await send();
    const delivered = await queue.receive('dev1');
    await queue.complete('dev1', delivered!.lockToken!);
    expect(await messageCount()).toBe(0);
    expect(await queue.peek('dev1')).toEqual([]);
    const error = await rejectsWith(queue.complete('dev1', delivered!.lockToken!), 'DeviceMessageLockLost');
    expect(error.numericCode).toBe(412002);
  });

  test('reject removes the message for good', async () => {
    const { send, queue, messageCount } = await setup();
    await send();
    const delivered = await queue.receive('dev1');
    await queue.reject('dev1', delivered!.lockToken!);
    expect(await messageCount()).toBe(0);
    expect(await queue.receive('dev1')).toBeUndefined();
  });

  test('abandon makes the message available again first in line, its delivery count kept', async () => {
    const { send, queue, notified } = await setup();
    const first = await send();
    await send();
    const delivered = await queue.receive('dev1');
    notified.length = 0;
    await queue.abandon('dev1', delivered!.lockToken!);
    expect(notified).toEqual(['dev1']);
    expect((await queue.peek('dev1'))[0]).toMatchObject({ messageId: first.messageId, deliveryCount: 1, lockToken: null });
    const again = await queue.receive('dev1');
    expect(again).toMatchObject({ messageId: first.messageId, deliveryCount: 2 });
    await rejectsWith(queue.abandon('dev1', delivered!.lockToken!), 'DeviceMessageLockLost');
  });

  test.each([
    ['an unknown lock token', async (_token: string, queue: CloudToDeviceQueue) => queue.complete('dev1', crypto.randomUUID())],
    ['an empty lock token', async (_token: string, queue: CloudToDeviceQueue) => queue.reject('dev1', '')],
    ['another device\u2019s lock token', async (token: string, queue: CloudToDeviceQueue) => queue.complete('dev2', token)],
  ] as const)('settling with %s fails with DeviceMessageLockLost', async (_label, settle) => {
    const { send, queue } = await setup();
    await send();
    const delivered = await queue.receive('dev1');
    await rejectsWith(settle(delivered!.lockToken!, queue), 'DeviceMessageLockLost');
    await queue.complete('dev1', delivered!.lockToken!);
  });

  test('settle maps complete, reject and abandon onto the same operations', async () => {
    const { send, queue } = await setup();
    await send();
    await send();
    const first = await queue.receive('dev1');
    await queue.settle('dev1', first!.lockToken!, 'abandon');
    const again = await queue.receive('dev1');
    await queue.settle('dev1', again!.lockToken!, 'reject');
    const second = await queue.receive('dev1');
    await queue.settle('dev1', second!.lockToken!, 'complete');
    expect(await queue.peek('dev1')).toEqual([]);
    await rejectsWith(queue.settle('dev1', second!.lockToken!, 'bounce' as never), 'ArgumentInvalid');
  });

  test('abandon after lock expiry fails with DeviceMessageLockLost', async () => {
    const { send, queue, clock } = await setup();
    await send();
    const delivered = await queue.receive('dev1');
    clock.advance(MINUTE_MS);
    await rejectsWith(queue.abandon('dev1', delivered!.lockToken!), 'DeviceMessageLockLost');
  });

  test('settling for a device that is not registered fails with DeviceNotFound', async () => {
    const { queue } = await setup();
    await rejectsWith(queue.complete('ghost', crypto.randomUUID()), 'DeviceNotFound');
  });
});

describe('delivery count', () => {
  test('a message delivered maxDeliveryCount times is dead-lettered on the next receive, which moves on', async () => {
    const { send, queue, feedback, messageCount } = await setup({ options: { maxDeliveryCount: 3 } });
    const poison = await send({ ack: 'full' });
    const next = await send();
    for (let delivery = 1; delivery <= 3; delivery++) {
      const delivered = await queue.receive('dev1');
      expect(delivered).toMatchObject({ messageId: poison.messageId, deliveryCount: delivery });
      await queue.abandon('dev1', delivered!.lockToken!);
    }
    expect((await queue.receive('dev1'))?.messageId).toBe(next.messageId);
    expect(await messageCount()).toBe(1);
    expect(await feedback()).toEqual(['DeliveryCountExceeded']);
  });

  test('lock expiries count as deliveries too', async () => {
    const { send, queue, clock } = await setup({ options: { maxDeliveryCount: 1 } });
    await send();
    expect(await queue.receive('dev1')).toBeDefined();
    clock.advance(MINUTE_MS);
    expect(await queue.receive('dev1')).toBeUndefined();
    expect(await queue.peek('dev1')).toEqual([]);
  });
});

describe('expiry', () => {
  test('receive never returns an expired message, even before the sweep', async () => {
    const { send, queue, clock } = await setup();
    await send();
    clock.advance(HOUR_MS);
    expect(await queue.receive('dev1')).toBeUndefined();
  });

  test('the sweep removes expired messages, locked ones included, and updates the registry count', async () => {
    const { send, queue, clock, messageCount } = await setup();
    await send();
    await send({ systemProperties: { 'absolute-expiry-time': new Date(clock.now() + 2 * HOUR_MS).toISOString() } });
    await send({}, 'dev2');
    const delivered = await queue.receive('dev1');
    clock.advance(HOUR_MS);
    expect(await queue.expireDue()).toEqual({ expiredMessages: 2, prunedFeedback: 0 });
    expect(await messageCount()).toBe(1);
    expect(await messageCount('dev2')).toBe(0);
    await rejectsWith(queue.complete('dev1', delivered!.lockToken!), 'DeviceMessageLockLost');
  });

  test('the sweep prunes feedback older than the feedback TTL', async () => {
    const { send, queue, clock } = await setup();
    await send({ ack: 'full' });
    clock.advance(HOUR_MS);
    expect(await queue.expireDue()).toEqual({ expiredMessages: 1, prunedFeedback: 0 });
    clock.advance(HOUR_MS);
    expect(await queue.expireDue()).toEqual({ expiredMessages: 0, prunedFeedback: 0 });
    clock.advance(1);
    expect(await queue.expireDue()).toEqual({ expiredMessages: 0, prunedFeedback: 1 });
  });
});

describe('purge and peek', () => {
  test('purge removes every message, locked ones included, and returns how many', async () => {
    const { send, queue, messageCount } = await setup();
    await send();
    await send();
    const delivered = await queue.receive('dev1');
    expect(await queue.purge('dev1')).toBe(2);
    expect(await messageCount()).toBe(0);
    expect(await queue.purge('dev1')).toBe(0);
    await rejectsWith(queue.complete('dev1', delivered!.lockToken!), 'DeviceMessageLockLost');
    await rejectsWith(queue.purge('ghost'), 'DeviceNotFound');
  });

  test('peek lists the queue oldest first without locking or counting a delivery', async () => {
    const { send, queue } = await setup();
    const first = await send();
    await send();
    const peeked = await queue.peek('dev1');
    expect(peeked.map((message) => message.deliveryCount)).toEqual([0, 0]);
    expect((await queue.receive('dev1'))?.messageId).toBe(first.messageId);
    await rejectsWith(queue.peek('ghost'), 'DeviceNotFound');
  });
});

describe('feedback', () => {
  type Outcome = FeedbackStatusCode;
  const produce: Record<Outcome, (q: CloudToDeviceQueue, clock: FakeClock) => Promise<unknown>> = {
    Success: async (q) => q.complete('dev1', (await q.receive('dev1'))!.lockToken!),
    Rejected: async (q) => q.reject('dev1', (await q.receive('dev1'))!.lockToken!),
    Expired: async (q, clock) => {
      clock.advance(HOUR_MS);
      return q.expireDue();
    },
    DeliveryCountExceeded: async (q, clock) => {
      await q.receive('dev1');
      clock.advance(MINUTE_MS);
      return q.receive('dev1');
    },
    Purged: async (q) => q.purge('dev1'),
  };
  const wanted: Record<C2dAck, Outcome[]> = {
    none: [],
    positive: ['Success'],
    negative: ['Rejected', 'Expired', 'DeliveryCountExceeded', 'Purged'],
    full: ['Success', 'Rejected', 'Expired', 'DeliveryCountExceeded', 'Purged'],
  };
  const cases = (Object.keys(wanted) as C2dAck[]).flatMap((ack) =>
    (Object.keys(produce) as Outcome[]).map((outcome) => [ack, outcome, wanted[ack].includes(outcome)] as const),
  );

  test.each(cases)('ack %s, outcome %s: feedback recorded = %p', async (ack, outcome, isRecorded) => {
    const { send, queue, clock, registry } = await setup({ options: { maxDeliveryCount: 1 } });
    const message = await send({ ack });
    await produce[outcome](queue, clock);
    const records = await queue.takeFeedback();
    if (!isRecorded) {
      expect(records).toEqual([]);
      return;
    }
    const { generationId } = await registry.getDevice('dev1');
    expect(records).toEqual([
      {
        id: expect.any(Number),
        originalMessageId: message.messageId,
        deviceId: 'dev1',
        deviceGenerationId: generationId,
        statusCode: outcome,
        description: expect.any(String),
        enqueuedTimeUtc: clock.now(),
      },
    ]);
  });

  test('taken feedback is hidden for the feedback lock duration, returns when abandoned, and is gone once acknowledged', async () => {
    const { send, queue, clock } = await setup();
    for (let i = 0; i < 3; i++) {
      await send({ ack: 'positive' });
      await queue.complete('dev1', (await queue.receive('dev1'))!.lockToken!);
    }
    const first = await queue.takeFeedback(2);
    expect(first.length).toBe(2);
    expect((await queue.takeFeedback()).length).toBe(1);
    expect(await queue.takeFeedback()).toEqual([]);
    expect(await queue.abandonFeedback([first[0]!.id])).toBe(1);
    expect(await queue.takeFeedback()).toEqual([first[0]!]);
    expect(await queue.acknowledgeFeedback(first.map((record) => record.id))).toBe(2);
    clock.advance(MINUTE_MS);
    expect((await queue.takeFeedback()).length).toBe(1);
    await rejectsWith(queue.takeFeedback(0), 'ArgumentInvalid');
  });
});

describe('releaseLocks', () => {
  test('releases the given deliveries with their delivery counts, skipping unknown and expired tokens', async () => {
    const { send, queue, clock, notified } = await setup();
    await send();
    await send();
    await send();
    const a = await queue.receive('dev1');
    clock.advance(MINUTE_MS / 2);
    const b = await queue.receive('dev1');
    const c = await queue.receive('dev1');
    clock.advance(MINUTE_MS / 2);
    notified.length = 0;
    expect(await queue.releaseLocks('dev1', [b!.lockToken!, a!.lockToken!, crypto.randomUUID()])).toBe(1);
    expect(notified).toEqual(['dev1']);
    expect((await queue.receive('dev1'))?.messageId).toBe(a!.messageId);
    expect((await queue.receive('dev1'))).toMatchObject({ messageId: b!.messageId, deliveryCount: 2 });
    await queue.complete('dev1', c!.lockToken!);
  });

  test('without tokens it releases every live lock of the device; a missing device releases nothing', async () => {
    const { send, queue, notified } = await setup();
    await send();
    await send();
    await queue.receive('dev1');
    await queue.receive('dev1');
    expect(await queue.releaseLocks('dev1')).toBe(2);
    expect((await queue.peek('dev1')).map((message) => [message.lockToken, message.deliveryCount])).toEqual([
      [null, 1],
      [null, 1],
    ]);
    notified.length = 0;
    expect(await queue.releaseLocks('dev1')).toBe(0);
    expect(await queue.releaseLocks('ghost')).toBe(0);
    expect(notified).toEqual([]);
  });
});

describe('group commit', () => {
  /** A store that counts the hot-path steps it is asked to take, and how many requests each carried. */
  function counting(calls: Record<string, number[]>) {
    return (store: C2dStore): C2dStore => ({
      ...delegate(store),
      enqueue: (messages, maxDepth) => {
        (calls.enqueue ??= []).push(messages.length);
        return store.enqueue(messages, maxDepth);
      },
      lockAvailable: (requests, now, lockedUntil) => {
        (calls.lockAvailable ??= []).push(requests.length);
        return store.lockAvailable(requests, now, lockedUntil);
      },
      removeLocked: (locks, now, feedback) => {
        (calls.removeLocked ??= []).push(locks.length);
        return store.removeLocked(locks, now, feedback);
      },
    });
  }

  test('sends, receives and completes made in one turn of the event loop reach the store as one step each', async () => {
    const calls: Record<string, number[]> = {};
    const { queue, registry, messageCount } = await setup({ wrapStore: counting(calls) });
    await registry.createDevice({ deviceId: 'dev3' });
    const devices = ['dev1', 'dev2', 'dev3'];
    await Promise.all(devices.flatMap((deviceId) => [1, 2].map(() => queue.send(deviceId, { body: text('hi') }))));
    expect(calls.enqueue).toEqual([6]);
    const received = await Promise.all(devices.map((deviceId) => queue.receiveMany(deviceId, 10)));
    expect(received.map((messages) => messages.length)).toEqual([2, 2, 2]);
    expect(calls.lockAvailable).toEqual([3]);
    await Promise.all(devices.flatMap((deviceId, index) => received[index]!.map((message) => queue.complete(deviceId, message.lockToken))));
    expect(calls.removeLocked).toEqual([6]);
    expect(await Promise.all(devices.map((deviceId) => messageCount(deviceId)))).toEqual([0, 0, 0]);
  });

  test('each request of a step gets its own answer: a full queue refuses only its own send', async () => {
    const { queue, send } = await setup({ options: { maxQueueDepth: 1 } });
    await send();
    const outcomes = await Promise.allSettled([queue.send('dev1', { body: text('x') }), queue.send('dev2', { body: text('y') })]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'fulfilled']);
  });

  test('lanes must be a positive integer', async () => {
    const stores = createMemoryStores();
    expect(() => new CloudToDeviceQueue({ store: createMemoryC2dStore(stores.registry), clock: new FakeClock(), lanes: 0 })).toThrow('lanes');
  });
});

describe('notifier', () => {
  test('fires after the send committed, with the device id', async () => {
    let isCommitted = false;
    const seen: boolean[] = [];
    const { send } = await setup({
      wrapStore: (store) => committing(store, () => (isCommitted = true)),
      onMessageQueued: () => seen.push(isCommitted),
    });
    await send();
    expect(seen).toEqual([true]);
  });

  test('does not fire when the send is refused', async () => {
    const { send, notified } = await setup({ options: { maxQueueDepth: 1 } });
    await send();
    await rejectsWith(send(), 'DeviceMaximumQueueDepthExceeded');
    expect(notified).toEqual(['dev1']);
  });

  test('does not fire when the commit fails', async () => {
    const notified: string[] = [];
    const failure = new Error('commit failed');
    const { send } = await setup({
      wrapStore: (store) => ({
        ...delegate(store),
        enqueue: async (messages, maxDepth) => {
          await store.enqueue(messages, maxDepth);
          throw failure;
        },
      }),
      onMessageQueued: (deviceId) => notified.push(deviceId),
    });
    await expect(send()).rejects.toBe(failure);
    expect(notified).toEqual([]);
  });

  test('a throwing notifier is logged, the send still succeeds', async () => {
    const lines: { event: string; fields?: LogFields }[] = [];
    const record = (event: string, fields?: LogFields) => lines.push({ event, fields });
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: record, child: () => logger };
    const { send } = await setup({
      logger,
      onMessageQueued: () => {
        throw new Error('session gone');
      },
    });
    await send();
    expect(lines.map((line) => line.event)).toEqual(['c2d_notifier_failed']);
  });
});

describe('options', () => {
  test.each([
    ['maxDeliveryCount 0', { maxDeliveryCount: 0 }, 'maxDeliveryCount'],
    ['maxDeliveryCount 101', { maxDeliveryCount: 101 }, 'maxDeliveryCount'],
    ['a fractional lockDurationMs', { lockDurationMs: 1.5 }, 'lockDurationMs'],
    ['a negative maxQueueDepth', { maxQueueDepth: -1 }, 'maxQueueDepth'],
    ['a default TTL above the maximum', { defaultTtlMs: 3 * HOUR_MS, maxTtlMs: 2 * HOUR_MS }, 'defaultTtlMs'],
  ] as const)('%s is refused naming the key', (_label, options, key) => {
    expect(() => parseC2dOptions(options)).toThrow(key);
  });

  test('the defaults are IoT Hub\u2019s', () => {
    expect(parseC2dOptions()).toEqual({
      maxQueueDepth: 50,
      defaultTtlMs: HOUR_MS,
      maxTtlMs: 48 * HOUR_MS,
      lockDurationMs: MINUTE_MS,
      maxDeliveryCount: 10,
      feedbackTtlMs: HOUR_MS,
      feedbackLockDurationMs: MINUTE_MS,
    });
  });
});

/** Every store method bound to `store`, for wrappers that replace one of them. */
function delegate(store: C2dStore): C2dStore {
  return {
    enqueue: (messages, maxDepth) => store.enqueue(messages, maxDepth),
    lockAvailable: (requests, now, lockedUntil) => store.lockAvailable(requests, now, lockedUntil),
    removeLocked: (locks, now, feedback) => store.removeLocked(locks, now, feedback),
    releaseLocked: (deviceId, lockTokens, now) => store.releaseLocked(deviceId, lockTokens, now),
    hasDevice: (deviceId) => store.hasDevice(deviceId),
    withDeviceQueue: (deviceId, work) => store.withDeviceQueue(deviceId, work),
    devicesWithExpiredMessages: (now) => store.devicesWithExpiredMessages(now),
    takeFeedback: (max, now, lockedUntil) => store.takeFeedback(max, now, lockedUntil),
    deleteFeedback: (ids) => store.deleteFeedback(ids),
    releaseFeedback: (ids) => store.releaseFeedback(ids),
    pruneFeedback: (before) => store.pruneFeedback(before),
  };
}

/** A store that calls `onCommitted` once an enqueue has resolved. */
function committing(store: C2dStore, onCommitted: () => void): C2dStore {
  return {
    ...delegate(store),
    enqueue: async (messages, maxDepth) => {
      const result = await store.enqueue(messages, maxDepth);
      onCommitted();
      return result;
    },
  };
}
