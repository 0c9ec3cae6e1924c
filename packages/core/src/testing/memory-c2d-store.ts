/**
 * C2dStore in memory, for session, adapter and route tests. Device existence, generationId and
 * `cloudToDeviceMessageCount` go through the RegistryStore port it is given (usually the one from
 * `createMemoryStores()`), so it works beside any registry. It passes the same contract as the
 * database store (`c2d-store-contract.ts`).
 * @module
 */

import { randomUUID } from 'node:crypto';
import type {
  CloudToDeviceMessage,
  LockedCloudToDeviceMessage,
  NewCloudToDeviceMessage,
  PreparedCloudToDeviceMessage,
} from '../c2d/c2d-message.ts';
import type {
  C2dDeviceQueue,
  C2dStore,
  DeviceLock,
  DeviceQueueResult,
  EnqueueResult,
  LockRequest,
  RemovedMessage,
} from '../c2d/c2d-store.ts';
import type { FeedbackOutcome, FeedbackRecord, NewFeedbackRecord } from '../c2d/feedback.ts';
import type { RegistryStore } from '../ports.ts';

const copy = <T>(value: T): T => structuredClone(value);
const byAge = (a: CloudToDeviceMessage, b: CloudToDeviceMessage) => a.sequenceNumber - b.sequenceNumber;

interface FeedbackRow {
  record: FeedbackRecord;
  lockedUntil: number | null;
}

/** One device's messages as a transaction sees them; merged back only when the work succeeds. */
class DraftQueue implements C2dDeviceQueue {
  readonly feedback: NewFeedbackRecord[] = [];

  constructor(
    readonly deviceId: string,
    readonly generationId: string,
    readonly messages: Map<number, CloudToDeviceMessage>,
    private readonly nextSequence: () => number,
  ) {}

  async count() {
    return this.messages.size;
  }

  async insert(message: NewCloudToDeviceMessage) {
    const stored: CloudToDeviceMessage = { ...copy(message), sequenceNumber: this.nextSequence() };
    this.messages.set(stored.sequenceNumber, stored);
    return copy(stored);
  }

  async list() {
    return this.#sorted().map(copy);
  }

  async expired(now: number) {
    return this.#sorted()
      .filter((message) => message.expiryTime <= now)
      .map(copy);
  }

  async remove(sequenceNumbers: readonly number[]) {
    return sequenceNumbers.filter((sequenceNumber) => this.messages.delete(sequenceNumber)).length;
  }

  async addFeedback(records: readonly NewFeedbackRecord[]) {
    this.feedback.push(...copy(records));
  }

  #sorted() {
    return [...this.messages.values()].sort(byAge);
  }
}

export class MemoryC2dStore implements C2dStore {
  readonly #registry: RegistryStore;
  readonly #messages = new Map<number, CloudToDeviceMessage>();
  readonly #feedback = new Map<number, FeedbackRow>();
  #lastSequence = 0;
  #lastFeedbackId = 0;
  /** Every operation runs alone, as the device-row lock makes them on PostgreSQL. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(registry: RegistryStore) {
    this.#registry = registry;
  }

  enqueue(messages: readonly PreparedCloudToDeviceMessage[], maxDepth: number): Promise<EnqueueResult[]> {
    return this.#exclusive(async () => {
      const results: EnqueueResult[] = [];
      for (const message of messages) {
        const device = await this.#registry.getDevice(message.deviceId);
        this.#dropStale(message.deviceId, device?.generationId);
        if (!device || this.#own(message.deviceId).length >= maxDepth) {
          results.push({ isQueued: false });
          continue;
        }
        const sequenceNumber = ++this.#lastSequence;
        this.#messages.set(sequenceNumber, { ...copy(message), deviceGenerationId: device.generationId, sequenceNumber });
        await this.#setMessageCount(message.deviceId);
        results.push({ isQueued: true, sequenceNumber, deviceGenerationId: device.generationId });
      }
      return results;
    });
  }

  lockAvailable(requests: readonly LockRequest[], now: number, lockedUntil: number): Promise<LockedCloudToDeviceMessage[]> {
    return this.#exclusive(async () => {
      const locked: LockedCloudToDeviceMessage[] = [];
      for (const { deviceId, max } of requests) {
        this.#dropStale(deviceId, (await this.#registry.getDevice(deviceId))?.generationId);
        const available = this.#own(deviceId)
          .filter((message) => message.expiryTime > now && (message.lockedUntil === null || message.lockedUntil <= now))
          .slice(0, max);
        for (const message of available) {
          Object.assign(message, { lockToken: randomUUID(), lockedUntil, deliveryCount: message.deliveryCount + 1 });
          locked.push(copy(message) as LockedCloudToDeviceMessage);
        }
      }
      return locked.sort(byAge);
    });
  }

  removeLocked(locks: readonly DeviceLock[], now: number, feedback: FeedbackOutcome): Promise<RemovedMessage[]> {
    return this.#exclusive(async () => {
      const { acks, ...outcome } = feedback;
      const removed: RemovedMessage[] = [];
      for (const { deviceId, lockToken } of locks) {
        for (const message of this.#live(deviceId, [lockToken], now)) {
          this.#messages.delete(message.sequenceNumber);
          const { sequenceNumber, messageId, ack, deliveryCount } = message;
          removed.push({ sequenceNumber, messageId, deviceId, ack, deliveryCount, lockToken });
          if (!acks.includes(ack)) continue;
          const id = ++this.#lastFeedbackId;
          const record = { ...outcome, id, originalMessageId: messageId, deviceId, deviceGenerationId: message.deviceGenerationId };
          this.#feedback.set(id, { record, lockedUntil: null });
        }
        await this.#setMessageCount(deviceId);
      }
      return removed;
    });
  }

  releaseLocked(deviceId: string, lockTokens: readonly string[] | undefined, now: number): Promise<string[]> {
    return this.#exclusive(async () => {
      const released = this.#live(deviceId, lockTokens, now);
      const tokens = released.map((message) => message.lockToken!);
      for (const message of released) Object.assign(message, { lockToken: null, lockedUntil: null });
      return tokens;
    });
  }

  hasDevice(deviceId: string): Promise<boolean> {
    return this.#exclusive(async () => (await this.#registry.getDevice(deviceId)) !== undefined);
  }

  withDeviceQueue<T>(deviceId: string, work: (queue: C2dDeviceQueue) => Promise<T>): Promise<DeviceQueueResult<T>> {
    return this.#exclusive(async () => {
      const device = await this.#registry.getDevice(deviceId);
      this.#dropStale(deviceId, device?.generationId);
      if (!device) return { isDeviceFound: false };
      const own = new Map([...this.#messages].filter(([, message]) => message.deviceId === deviceId).map(([key, m]) => [key, copy(m)]));
      let lastSequence = this.#lastSequence;
      const draft = new DraftQueue(deviceId, device.generationId, own, () => ++lastSequence);
      const result = await work(draft);
      this.#lastSequence = lastSequence;
      for (const [key, message] of this.#messages) if (message.deviceId === deviceId) this.#messages.delete(key);
      for (const [key, message] of draft.messages) this.#messages.set(key, message);
      for (const record of draft.feedback) {
        const id = ++this.#lastFeedbackId;
        this.#feedback.set(id, { record: { ...record, id }, lockedUntil: null });
      }
      await this.#setMessageCount(deviceId);
      return { isDeviceFound: true, result };
    });
  }

  devicesWithExpiredMessages(now: number): Promise<string[]> {
    return this.#exclusive(async () => [
      ...new Set([...this.#messages.values()].filter((message) => message.expiryTime <= now).map((message) => message.deviceId)),
    ]);
  }

  takeFeedback(max: number, now: number, lockedUntil: number): Promise<FeedbackRecord[]> {
    return this.#exclusive(async () => {
      const taken = [...this.#feedback.values()]
        .filter((row) => row.lockedUntil === null || row.lockedUntil <= now)
        .sort((a, b) => a.record.id - b.record.id)
        .slice(0, max);
      for (const row of taken) row.lockedUntil = lockedUntil;
      return taken.map((row) => copy(row.record));
    });
  }

  deleteFeedback(ids: readonly number[]): Promise<number> {
    return this.#exclusive(async () => [...new Set(ids)].filter((id) => this.#feedback.delete(id)).length);
  }

  releaseFeedback(ids: readonly number[]): Promise<number> {
    return this.#exclusive(async () => {
      let released = 0;
      for (const id of new Set(ids)) {
        const row = this.#feedback.get(id);
        if (!row) continue;
        row.lockedUntil = null;
        released += 1;
      }
      return released;
    });
  }

  pruneFeedback(enqueuedBefore: number): Promise<number> {
    return this.#exclusive(async () => {
      let pruned = 0;
      for (const [id, row] of this.#feedback) {
        if (row.record.enqueuedTimeUtc < enqueuedBefore) {
          this.#feedback.delete(id);
          pruned += 1;
        }
      }
      return pruned;
    });
  }

  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(operation, operation);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** The registry knows nothing of queues: drop messages of deleted or re-created devices, as the foreign key's cascade does. */
  #dropStale(deviceId: string, generationId: string | undefined): void {
    for (const [key, message] of this.#messages) {
      if (message.deviceId === deviceId && message.deviceGenerationId !== generationId) this.#messages.delete(key);
    }
  }

  /** The device's messages, oldest first (the stored objects: callers copy what they hand out). */
  #own(deviceId: string): CloudToDeviceMessage[] {
    return [...this.#messages.values()].filter((message) => message.deviceId === deviceId).sort(byAge);
  }

  /** The device's messages locked at `now` under one of `lockTokens` (any token when undefined). */
  #live(deviceId: string, lockTokens: readonly string[] | undefined, now: number): CloudToDeviceMessage[] {
    const wanted = lockTokens && new Set(lockTokens);
    return this.#own(deviceId).filter(
      (message) =>
        message.lockToken !== null &&
        message.lockedUntil !== null &&
        message.lockedUntil > now &&
        (wanted === undefined || wanted.has(message.lockToken)),
    );
  }

  /** Writes the count without touching the etag: it is not an identity change. */
  async #setMessageCount(deviceId: string): Promise<void> {
    await this.#registry.setCloudToDeviceMessageCount(deviceId, this.#own(deviceId).length);
  }
}

/** A C2D store in memory beside `registry` (e.g. `createMemoryStores().registry`). */
export function createMemoryC2dStore(registry: RegistryStore): MemoryC2dStore {
  return new MemoryC2dStore(registry);
}
