/**
 * The C2D store contract: one suite every C2dStore must pass (memory, PGlite, PostgreSQL), in the
 * manner of aedes-persistence's abstract.js. Besides the port's own promises it runs the queue's
 * concurrency guarantees against the store: the depth limit under parallel sends and no message
 * handed to two receivers. Each test works on devices of its own.
 * @module
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { deviceBoundAddress, type NewCloudToDeviceMessage } from '../c2d/c2d-message.ts';
import { CloudToDeviceQueue } from '../c2d/c2d-queue.ts';
import type { C2dDeviceQueue, C2dStore } from '../c2d/c2d-store.ts';
import type { NewFeedbackRecord } from '../c2d/feedback.ts';
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

      test('nextAvailable skips locked and expired messages and returns one whose lock ran out', async () => {
        const deviceId = await createDevice('available');
        const [, locked, lapsed, free] = await onQueue(deviceId, async (queue) => [
          await queue.insert(sampleMessage(queue, { expiryTime: NOW })),
          await queue.insert(sampleMessage(queue, { lockToken: crypto.randomUUID(), lockedUntil: NOW + 1, deliveryCount: 1 })),
          await queue.insert(sampleMessage(queue, { lockToken: crypto.randomUUID(), lockedUntil: NOW, deliveryCount: 1 })),
          await queue.insert(sampleMessage(queue)),
        ]);
        expect((await onQueue(deviceId, (queue) => queue.nextAvailable(NOW)))?.messageId).toBe(lapsed!.messageId);
        await onQueue(deviceId, (queue) => queue.remove([lapsed!.sequenceNumber]));
        expect((await onQueue(deviceId, (queue) => queue.nextAvailable(NOW)))?.messageId).toBe(free!.messageId);
        expect((await onQueue(deviceId, (queue) => queue.nextAvailable(NOW + 1)))?.messageId).toBe(locked!.messageId);
      });

      test('updateLock sets lock and delivery count, and findByLockToken finds only this device\u2019s messages', async () => {
        const deviceId = await createDevice('lock');
        const otherId = await createDevice('lock-other');
        const message = await onQueue(deviceId, (queue) => queue.insert(sampleMessage(queue)));
        const lockToken = crypto.randomUUID();
        const change = { lockToken, lockedUntil: NOW + 60_000, deliveryCount: 1 };
        expect(await onQueue(deviceId, (queue) => queue.updateLock(message.sequenceNumber, change))).toBe(true);
        expect(await onQueue(deviceId, (queue) => queue.findByLockToken(lockToken))).toEqual({ ...message, ...change });
        expect(await onQueue(otherId, (queue) => queue.findByLockToken(lockToken))).toBeUndefined();
        expect(await onQueue(deviceId, (queue) => queue.findByLockToken(crypto.randomUUID()))).toBeUndefined();
        const cleared = { lockToken: null, lockedUntil: null, deliveryCount: 1 };
        expect(await onQueue(deviceId, (queue) => queue.updateLock(message.sequenceNumber, cleared))).toBe(true);
        expect(await onQueue(deviceId, (queue) => queue.findByLockToken(lockToken))).toBeUndefined();
        await onQueue(deviceId, (queue) => queue.remove([message.sequenceNumber]));
        expect(await onQueue(deviceId, (queue) => queue.updateLock(message.sequenceNumber, change))).toBe(false);
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
