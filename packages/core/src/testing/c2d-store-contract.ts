/**
 * The C2D store contract: one suite every C2dStore must pass (memory, PGlite, PostgreSQL), in the
 * manner of aedes-persistence's abstract.js. Besides the port's own promises it runs the queue's
 * concurrency guarantees against the store: the depth limit under parallel sends and no message
 * handed to two receivers. Each test works on devices of its own.
 * @module
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { type CloudToDeviceMessage, deviceBoundAddress, type NewCloudToDeviceMessage } from '../c2d/c2d-message.ts';
import { CloudToDeviceQueue } from '../c2d/c2d-queue.ts';
import type { C2dDeviceQueue, C2dStore } from '../c2d/c2d-store.ts';
import { feedbackOutcome, type NewFeedbackRecord } from '../c2d/feedback.ts';
import { HubError } from '../errors.ts';
import { newDevice } from '../identity/device-rules.ts';
import { initialTwinState } from '../identity/twin-state.ts';
import type { RegistryStore } from '../ports.ts';
import { FakeClock } from './fake-clock.ts';

export interface OpenedC2dStores {
  c2d: C2dStore;
  /** The registry the C2D store sees devices through (same database, or the memory registry it was built on). */
  registry: RegistryStore;
  close(): Promise<void>;
}

let counter = 0;
const uniqueId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 123);
const HOUR_MS = 3_600_000;

function sampleMessage(queue: C2dDeviceQueue, overrides: Partial<NewCloudToDeviceMessage> = {}): NewCloudToDeviceMessage {
  const messageId = uniqueId('msg');
  return {
    messageId,
    deviceId: queue.deviceId,
    deviceGenerationId: queue.generationId,
    body: new Uint8Array([0, 1, 2, 127, 128, 255]),
    systemProperties: {
      'message-id': messageId,
      to: deviceBoundAddress(queue.deviceId),
      'correlation-id': 'corr-1',
      'content-type': 'application/json',
      'absolute-expiry-time': new Date(NOW + HOUR_MS).toISOString(),
    },
    applicationProperties: { 'key with space': 'a&b=c/d', wave: '🌊' },
    ack: 'full',
    enqueuedTime: NOW,
    expiryTime: NOW + HOUR_MS,
    deliveryCount: 0,
    lockToken: null,
    lockedUntil: null,
    ...overrides,
  };
}

function sampleFeedback(deviceId: string, overrides: Partial<NewFeedbackRecord> = {}): NewFeedbackRecord {
  return {
    originalMessageId: uniqueId('orig'),
    deviceId,
    deviceGenerationId: '638000000000000001',
    statusCode: 'Success',
    description: 'Success',
    enqueuedTimeUtc: NOW,
    ...overrides,
  };
}

export function c2dStoreContract(name: string, open: () => Promise<OpenedC2dStores>): void {
  describe(`c2d store contract: ${name}`, () => {
    let opened: OpenedC2dStores;
    let store: C2dStore;
    let registry: RegistryStore;
    beforeAll(async () => {
      opened = await open();
      store = opened.c2d;
      registry = opened.registry;
    });
    afterAll(async () => {
      await opened?.close();
    });

    async function createDevice(label: string): Promise<string> {
      const device = newDevice({ deviceId: uniqueId(label) }, NOW);
      expect(await registry.insertDevice(device, initialTwinState(NOW))).toBe(true);
      return device.deviceId;
    }

    /** Runs `work` on a registered device's queue and returns its result. */
    async function onQueue<T>(deviceId: string, work: (queue: C2dDeviceQueue) => Promise<T>): Promise<T> {
      const outcome = await store.withDeviceQueue(deviceId, work);
      if (!outcome.isDeviceFound) throw new Error(`device ${deviceId} not found`);
      return outcome.result;
    }

    const messageCount = async (deviceId: string) => (await registry.getDevice(deviceId))?.cloudToDeviceMessageCount;

    describe('device queues', () => {
      test('a device that is not registered has no queue and the work does not run', async () => {
        let isRun = false;
        const outcome = await store.withDeviceQueue(uniqueId('ghost'), async () => {
          isRun = true;
        });
        expect(outcome).toEqual({ isDeviceFound: false });
        expect(isRun).toBe(false);
      });

      test('the queue names the device and its current generationId', async () => {
        const deviceId = await createDevice('gen');
        const device = await registry.getDevice(deviceId);
        const seen = await onQueue(deviceId, async (queue) => ({ deviceId: queue.deviceId, generationId: queue.generationId }));
        expect(seen).toEqual({ deviceId, generationId: device!.generationId });
      });

      test('an inserted message reads back field for field, body as a plain Uint8Array', async () => {
        const deviceId = await createDevice('roundtrip');
        const { sample, inserted } = await onQueue(deviceId, async (queue) => {
          const sample = sampleMessage(queue, { lockToken: null, deliveryCount: 3 });
          return { sample, inserted: await queue.insert(sample) };
        });
        expect(inserted).toEqual({ ...sample, sequenceNumber: inserted.sequenceNumber });
        const [listed] = await onQueue(deviceId, (queue) => queue.list());
        expect(listed).toEqual(inserted);
        expect(Object.getPrototypeOf(listed!.body)).toBe(Uint8Array.prototype);
      });

      test('an empty body and empty properties round-trip', async () => {
        const deviceId = await createDevice('empty');
        const inserted = await onQueue(deviceId, (queue) =>
          queue.insert(sampleMessage(queue, { body: new Uint8Array(), systemProperties: {}, applicationProperties: {} })),
        );
        const [listed] = await onQueue(deviceId, (queue) => queue.list());
        expect(listed).toEqual(inserted);
        expect(listed!.body.byteLength).toBe(0);
      });

      test('sequence numbers increase across devices and list returns the oldest first', async () => {
        const first = await createDevice('seq-a');
        const second = await createDevice('seq-b');
        const a1 = await onQueue(first, (queue) => queue.insert(sampleMessage(queue)));
        const b1 = await onQueue(second, (queue) => queue.insert(sampleMessage(queue)));
        const a2 = await onQueue(first, (queue) => queue.insert(sampleMessage(queue)));
        expect(b1.sequenceNumber).toBeGreaterThan(a1.sequenceNumber);
        expect(a2.sequenceNumber).toBeGreaterThan(b1.sequenceNumber);
        expect((await onQueue(first, (queue) => queue.list())).map((m) => m.messageId)).toEqual([a1.messageId, a2.messageId]);
        expect(await onQueue(first, (queue) => queue.count())).toBe(2);
      });

      test("the device's cloudToDeviceMessageCount follows the queue when a transaction commits", async () => {
        const deviceId = await createDevice('count');
        const etagBefore = (await registry.getDevice(deviceId))!.etagVersion;
        const [m1] = await onQueue(deviceId, async (queue) => [await queue.insert(sampleMessage(queue)), await queue.insert(sampleMessage(queue))]);
        expect(await messageCount(deviceId)).toBe(2);
        expect(await onQueue(deviceId, (queue) => queue.remove([m1!.sequenceNumber]))).toBe(1);
        expect(await messageCount(deviceId)).toBe(1);
        expect((await registry.getDevice(deviceId))!.etagVersion).toBe(etagBefore);
      });

      test('work that throws commits nothing', async () => {
        const deviceId = await createDevice('rollback');
        const kept = await onQueue(deviceId, (queue) => queue.insert(sampleMessage(queue)));
        const failure = new Error('boom');
        const attempt = store.withDeviceQueue(deviceId, async (queue) => {
          await queue.insert(sampleMessage(queue));
          await queue.remove([kept.sequenceNumber]);
          await queue.addFeedback([sampleFeedback(deviceId)]);
          throw failure;
        });
        await expect(attempt).rejects.toBe(failure);
        expect(await onQueue(deviceId, (queue) => queue.list())).toEqual([kept]);
        expect(await messageCount(deviceId)).toBe(1);
        const feedback = await store.takeFeedback(1000, NOW, NOW + 1);
        expect(feedback.filter((record) => record.deviceId === deviceId)).toEqual([]);
        await store.releaseFeedback(feedback.map((record) => record.id));
      });

      test('remove only removes messages of this device', async () => {
        const deviceId = await createDevice('remove');
        const otherId = await createDevice('remove-other');
        const other = await onQueue(otherId, (queue) => queue.insert(sampleMessage(queue)));
        expect(await onQueue(deviceId, (queue) => queue.remove([other.sequenceNumber]))).toBe(0);
        expect(await onQueue(otherId, (queue) => queue.count())).toBe(1);
      });
      test('expired lists messages due at now, and devicesWithExpiredMessages names their devices', async () => {
        const deviceId = await createDevice('expired');
        const [due, later] = await onQueue(deviceId, async (queue) => [
          await queue.insert(sampleMessage(queue, { expiryTime: NOW - 1 })),
          await queue.insert(sampleMessage(queue, { expiryTime: NOW + 10 })),
        ]);
        expect((await onQueue(deviceId, (queue) => queue.expired(NOW))).map((m) => m.messageId)).toEqual([due!.messageId]);
        expect((await onQueue(deviceId, (queue) => queue.expired(NOW + 10))).map((m) => m.messageId)).toEqual([
          due!.messageId,
          later!.messageId,
        ]);
        expect(await store.devicesWithExpiredMessages(NOW)).toContain(deviceId);
        await onQueue(deviceId, (queue) => queue.remove([due!.sequenceNumber]));
        expect(await store.devicesWithExpiredMessages(NOW)).not.toContain(deviceId);
      });

      test('deleting a device deletes its queue; a device re-created under the same id starts empty', async () => {
        const deviceId = await createDevice('deleted');
        await onQueue(deviceId, (queue) => queue.insert(sampleMessage(queue, { expiryTime: NOW - 1 })));
        expect(await registry.deleteDevice(deviceId)).toBe(true);
        expect((await store.withDeviceQueue(deviceId, (queue) => queue.count())).isDeviceFound).toBe(false);
        await registry.insertDevice(newDevice({ deviceId }, NOW), initialTwinState(NOW));
        expect(await onQueue(deviceId, (queue) => queue.count())).toBe(0);
        expect(await store.devicesWithExpiredMessages(NOW)).not.toContain(deviceId);
      });
    });

    describe('hot-path steps', () => {
      const prepared = (deviceId: string, overrides: Partial<NewCloudToDeviceMessage> = {}) => {
        const { deviceGenerationId: _, ...message } = sampleMessage({ deviceId, generationId: '' } as C2dDeviceQueue, overrides);
        return message;
      };
      const full = feedbackOutcome('Success', NOW + 5);

      test('enqueue stamps generationIds, numbers in order, counts, and fills each queue up to maxDepth', async () => {
        const deviceId = await createDevice('enqueue');
        const otherId = await createDevice('enqueue-other');
        const generationId = (await registry.getDevice(deviceId))!.generationId;
        const first = prepared(deviceId);
        const results = await store.enqueue([first, prepared(otherId), prepared(deviceId), prepared(deviceId), prepared(uniqueId('ghost'))], 2);
        expect(results.map((result) => result.isQueued)).toEqual([true, true, true, false, false]);
        const numbers = results.flatMap((result) => (result.isQueued ? [result.sequenceNumber] : []));
        expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
        expect(results[0]).toMatchObject({ deviceGenerationId: generationId });
        expect(await store.enqueue([prepared(deviceId)], 2)).toEqual([{ isQueued: false }]);
        expect(await messageCount(deviceId)).toBe(2);
        expect(await messageCount(otherId)).toBe(1);
        const [listed] = await onQueue(deviceId, (queue) => queue.list());
        expect(listed).toEqual({ ...first, deviceGenerationId: generationId, sequenceNumber: numbers[0]! });
        expect(Object.getPrototypeOf(listed!.body)).toBe(Uint8Array.prototype);
        const [later] = await store.enqueue([prepared(otherId)], 2);
        expect(later!.isQueued && later!.sequenceNumber > Math.max(...numbers)).toBe(true);
      });

      test('lockAvailable takes the oldest unlocked, unexpired messages per device, with new tokens and one more delivery', async () => {
        const deviceId = await createDevice('lock');
        const otherId = await createDevice('lock-other');
        const [, locked, lapsed, free, last] = await onQueue(deviceId, async (queue) => [
          await queue.insert(sampleMessage(queue, { expiryTime: NOW })),
          await queue.insert(sampleMessage(queue, { lockToken: crypto.randomUUID(), lockedUntil: NOW + 1, deliveryCount: 1 })),
          await queue.insert(sampleMessage(queue, { lockToken: crypto.randomUUID(), lockedUntil: NOW, deliveryCount: 1 })),
          await queue.insert(sampleMessage(queue)),
          await queue.insert(sampleMessage(queue)),
        ]);
        const [otherFirst] = await onQueue(otherId, async (queue) => [await queue.insert(sampleMessage(queue)), await queue.insert(sampleMessage(queue))]);
        const requests = [
          { deviceId, max: 2 },
          { deviceId: otherId, max: 1 },
          { deviceId: uniqueId('ghost'), max: 5 },
        ];
        const taken = await store.lockAvailable(requests, NOW, NOW + 60_000);
        const own = taken.filter((message) => message.deviceId === deviceId);
        expect(own.map((message) => message.messageId)).toEqual([lapsed!.messageId, free!.messageId]);
        expect(taken.filter((message) => message.deviceId === otherId).map((message) => message.messageId)).toEqual([otherFirst!.messageId]);
        expect(own.map((message) => message.deliveryCount)).toEqual([2, 1]);
        expect(taken.every((message) => message.lockedUntil === NOW + 60_000)).toBe(true);
        expect(own[0]!.lockToken).not.toBe(lapsed!.lockToken);
        expect(new Set(taken.map((message) => message.lockToken)).size).toBe(3);
        expect(own[1]).toEqual({ ...free!, lockToken: own[1]!.lockToken, lockedUntil: NOW + 60_000, deliveryCount: 1 });
        const again = (max: number, now = NOW) => store.lockAvailable([{ deviceId, max }], now, NOW + 60_000);
        expect((await again(10)).map((message) => message.messageId)).toEqual([last!.messageId]);
        expect(await again(10)).toEqual([]);
        expect((await again(10, NOW + 1)).map((message) => message.messageId)).toEqual([locked!.messageId]);
      });

      test('removeLocked removes live locks of the named devices only, records the feedback asked for, and lowers the counts', async () => {
        const deviceId = await createDevice('remove-locked');
        const otherId = await createDevice('remove-locked-other');
        const [wantsNone, wantsFull, stays] = await onQueue(deviceId, async (queue) => [
          await queue.insert(sampleMessage(queue, { ack: 'none' })),
          await queue.insert(sampleMessage(queue, { ack: 'full' })),
          await queue.insert(sampleMessage(queue, { ack: 'positive' })),
        ]);
        const [otherMessage] = await onQueue(otherId, async (queue) => [await queue.insert(sampleMessage(queue)), await queue.insert(sampleMessage(queue))]);
        const taken = await store.lockAvailable([{ deviceId, max: 3 }], NOW, NOW + 60_000);
        const [otherTaken, otherKept] = await store.lockAvailable([{ deviceId: otherId, max: 2 }], NOW, NOW + 60_000);
        const locks = [
          { deviceId, lockToken: taken[0]!.lockToken },
          { deviceId, lockToken: taken[1]!.lockToken },
          { deviceId: otherId, lockToken: otherTaken!.lockToken },
          { deviceId, lockToken: otherKept!.lockToken },
          { deviceId, lockToken: crypto.randomUUID() },
        ];
        const removed = await store.removeLocked(locks, NOW + 1, { ...full, acks: ['full'] });
        const byDevice = <T extends { deviceId: string }>(records: T[]) => [...records].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1));
        expect(removed.map((message) => message.messageId).sort()).toEqual([wantsNone!.messageId, wantsFull!.messageId, otherMessage!.messageId].sort());
        expect(removed.find((message) => message.messageId === wantsFull!.messageId)).toEqual({
          sequenceNumber: wantsFull!.sequenceNumber,
          messageId: wantsFull!.messageId,
          deviceId,
          ack: 'full',
          deliveryCount: 1,
          lockToken: taken[1]!.lockToken,
        });
        expect((await onQueue(deviceId, (queue) => queue.list())).map((message) => message.messageId)).toEqual([stays!.messageId]);
        expect(await messageCount(deviceId)).toBe(1);
        expect(await messageCount(otherId)).toBe(1);
        const feedback = (await store.takeFeedback(1000, NOW, NOW + 1)).filter((record) => [deviceId, otherId].includes(record.deviceId));
        const expected = (message: CloudToDeviceMessage): NewFeedbackRecord => ({
          originalMessageId: message.messageId,
          deviceId: message.deviceId,
          deviceGenerationId: message.deviceGenerationId,
          statusCode: 'Success',
          description: 'Success',
          enqueuedTimeUtc: NOW + 5,
        });
        expect(byDevice(feedback.map(({ id: _, ...record }) => record))).toEqual(byDevice([expected(wantsFull!), expected(otherMessage!)]));
        await store.deleteFeedback(feedback.map((record) => record.id));
        expect(await store.removeLocked([{ deviceId, lockToken: taken[2]!.lockToken }], NOW + 60_000, full)).toEqual([]);
        expect(await store.removeLocked([{ deviceId, lockToken: taken[0]!.lockToken }], NOW + 1, full)).toEqual([]);
      });

      test('releaseLocked frees the given live locks, or all of them, keeping delivery counts', async () => {
        const deviceId = await createDevice('release');
        await onQueue(deviceId, async (queue) => {
          for (let i = 0; i < 3; i++) await queue.insert(sampleMessage(queue));
        });
        const [a, b, c] = await store.lockAvailable([{ deviceId, max: 3 }], NOW, NOW + 60_000);
        expect(await store.releaseLocked(deviceId, [a!.lockToken, crypto.randomUUID()], NOW)).toEqual([a!.lockToken]);
        expect(await store.releaseLocked(deviceId, [a!.lockToken], NOW)).toEqual([]);
        expect(await store.releaseLocked(deviceId, [b!.lockToken], NOW + 60_000)).toEqual([]);
        expect((await store.releaseLocked(deviceId, undefined, NOW)).sort()).toEqual([b!.lockToken, c!.lockToken].sort());
        const again = await store.lockAvailable([{ deviceId, max: 3 }], NOW, NOW + 60_000);
        expect(again.map((message) => message.deliveryCount)).toEqual([2, 2, 2]);
        expect(await messageCount(deviceId)).toBe(3);
      });

      test('hasDevice', async () => {
        expect(await store.hasDevice(await createDevice('has'))).toBe(true);
        expect(await store.hasDevice(uniqueId('ghost'))).toBe(false);
      });

    });

    describe('feedback', () => {
      test('taken records are hidden until their take runs out, released or deleted', async () => {
        const deviceId = await createDevice('feedback');
        const records = [sampleFeedback(deviceId), sampleFeedback(deviceId, { statusCode: 'Expired', description: 'Message expired' })];
        await onQueue(deviceId, (queue) => queue.addFeedback(records));
        const own = <T extends { deviceId: string }>(taken: T[]) => taken.filter((record) => record.deviceId === deviceId);

        const first = own(await store.takeFeedback(1000, NOW, NOW + 60_000));
        expect(first.map(({ id: _id, ...rest }) => rest)).toEqual(records);
        expect(first[1]!.id).toBeGreaterThan(first[0]!.id);
        expect(own(await store.takeFeedback(1000, NOW + 59_999, NOW + 120_000))).toEqual([]);
        expect(own(await store.takeFeedback(1000, NOW + 60_000, NOW + 120_000))).toEqual(first);

        expect(await store.releaseFeedback([first[0]!.id])).toBe(1);
        expect(own(await store.takeFeedback(1000, NOW + 60_000, NOW + 180_000))).toEqual([first[0]!]);
        expect(await store.deleteFeedback(first.map((record) => record.id))).toBe(2);
        expect(await store.deleteFeedback([first[0]!.id])).toBe(0);
        expect(await store.releaseFeedback([first[0]!.id])).toBe(0);
        expect(own(await store.takeFeedback(1000, NOW + 999_999, NOW + 1_000_000))).toEqual([]);
      });

      test('takeFeedback hands out at most max records, oldest first, and concurrent takers get disjoint records', async () => {
        const deviceId = await createDevice('feedback-take');
        await onQueue(deviceId, (queue) => queue.addFeedback(Array.from({ length: 6 }, () => sampleFeedback(deviceId))));
        const takes = await Promise.all([1, 2, 3].map(() => store.takeFeedback(2, NOW, NOW + 60_000)));
        const ids = takes.flat().map((record) => record.id);
        expect(takes.every((take) => take.length <= 2)).toBe(true);
        expect(new Set(ids).size).toBe(ids.length);
        for (const take of takes) expect(take.map((record) => record.id)).toEqual(take.map((record) => record.id).sort((a, b) => a - b));
        await store.deleteFeedback(ids);
        const rest = (await store.takeFeedback(1000, NOW, NOW + 60_000)).filter((record) => record.deviceId === deviceId);
        expect(rest.length + takes.flat().filter((record) => record.deviceId === deviceId).length).toBe(6);
        await store.deleteFeedback(rest.map((record) => record.id));
      });

      test('pruneFeedback deletes records enqueued before the cut-off, taken or not', async () => {
        const deviceId = await createDevice('feedback-prune');
        const old = NOW - 10 * HOUR_MS;
        await onQueue(deviceId, (queue) =>
          queue.addFeedback([sampleFeedback(deviceId, { enqueuedTimeUtc: old }), sampleFeedback(deviceId, { enqueuedTimeUtc: old + 1 })]),
        );
        expect(await store.pruneFeedback(old + 1)).toBe(1);
        const taken = await store.takeFeedback(1000, NOW, NOW + 1);
        expect(taken.filter((record) => record.deviceId === deviceId).map((record) => record.enqueuedTimeUtc)).toEqual([old + 1]);
        expect(await store.pruneFeedback(old + 2)).toBe(1);
        await store.releaseFeedback(taken.map((record) => record.id));
      });
    });

    describe('queue guarantees on this store', () => {
      const queueOn = (clock = new FakeClock(NOW)) => new CloudToDeviceQueue({ store, clock });
      const body = new TextEncoder().encode('hello');

      test('80 parallel sends to one device: exactly 50 are accepted, the rest fail with DeviceMaximumQueueDepthExceeded', async () => {
        const deviceId = await createDevice('depth');
        const queue = queueOn();
        const outcomes = await Promise.allSettled(Array.from({ length: 80 }, () => queue.send(deviceId, { body })));
        const accepted = outcomes.filter((outcome) => outcome.status === 'fulfilled');
        const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
        expect(accepted.length).toBe(50);
        expect(refused.every((reason) => reason instanceof HubError && reason.code === 'DeviceMaximumQueueDepthExceeded')).toBe(true);
        expect(await onQueue(deviceId, (q) => q.count())).toBe(50);
        expect(await messageCount(deviceId)).toBe(50);
      });

      test('settlements racing sends and a purge keep the registry count equal to the queue', async () => {
        const deviceId = await createDevice('race');
        const queue = queueOn();
        for (let i = 0; i < 20; i++) await queue.send(deviceId, { body });
        const received = await queue.receiveMany(deviceId, 20);
        expect(received.length).toBe(20);
        const outcomes = await Promise.allSettled([
          ...received.map((message) => queue.complete(deviceId, message.lockToken)),
          ...Array.from({ length: 10 }, () => queue.send(deviceId, { body })),
          queue.purge(deviceId),
          ...received.slice(0, 5).map((message) => queue.abandon(deviceId, message.lockToken)),
        ]);
        const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason] : []));
        expect(failures.every((reason) => reason instanceof HubError && reason.code === 'DeviceMessageLockLost')).toBe(true);
        expect(await messageCount(deviceId)).toBe(await onQueue(deviceId, (q) => q.count()));
      });

      test('parallel receives never hand one message to two receivers', async () => {
        const deviceId = await createDevice('receivers');
        const queue = queueOn();
        for (let i = 0; i < 5; i++) await queue.send(deviceId, { body });
        const received = (await Promise.all(Array.from({ length: 10 }, () => queue.receive(deviceId)))).filter((m) => m !== undefined);
        expect(received.length).toBe(5);
        expect(new Set(received.map((message) => message.sequenceNumber)).size).toBe(5);
        expect(new Set(received.map((message) => message.lockToken)).size).toBe(5);
      });
    });
  });
}
