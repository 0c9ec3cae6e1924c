/**
 * The cloud-to-device queue: the one place that owns IoT Hub's C2D life cycle (IoT Hub "Send
 * cloud-to-device messages", azure-wire-protocol.md §8 and §12): per-device FIFO queues with a
 * depth limit, TTL and expiry, lock tokens, delivery counts and dead-lettering, the
 * complete/reject/abandon settlements, purge, and feedback per `iothub-ack`. It knows no protocol:
 * adapters map MQTT PUBACK, AMQP dispositions and HTTPS verbs onto these calls (§4.3, §5.3, §6),
 * and pushing a message to a connected device is the session's job, woken by the notifier.
 * @module
 */

import type { Clock } from '../clock.ts';
import { argumentInvalid, deviceNotFound } from '../errors.ts';
import { type BatchEntry, KeyedBatches } from '../keyed-batches.ts';
import { type Logger, silentLogger } from '../log.ts';
import { partitionFor } from '../telemetry/partitioner.ts';
import {
  type CloudToDeviceMessage,
  type CloudToDeviceMessageInput,
  type LockedCloudToDeviceMessage,
  messageLockLost,
  type PreparedCloudToDeviceMessage,
  prepareCloudToDeviceMessage,
  queueDepthExceeded,
} from './c2d-message.ts';
import type { C2dDeviceQueue, C2dStore, DeviceLock, EnqueueResult, LockRequest, RemovedMessage } from './c2d-store.ts';
import {
  type FeedbackRecord,
  type FeedbackStatusCode,
  feedbackFor,
  feedbackOutcome,
  MAX_FEEDBACK_BATCH,
  type NewFeedbackRecord,
} from './feedback.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

export interface CloudToDeviceOptions {
  /** Messages one device queue holds at most; IoT Hub's limit is 50. */
  maxQueueDepth: number;
  /** Expiry of a message sent without one; IoT Hub's default TTL is 1 hour. */
  defaultTtlMs: number;
  /** The furthest expiry a sender may ask for; IoT Hub allows 48 hours. */
  maxTtlMs: number;
  /** How long a delivered message stays invisible awaiting settlement; IoT Hub's is 1 minute, fixed. */
  lockDurationMs: number;
  /** Deliveries after which a message is dead-lettered; IoT Hub's default is 10, range 1–100. */
  maxDeliveryCount: number;
  /** How long feedback waits for the service to take it; IoT Hub's default is 1 hour. */
  feedbackTtlMs: number;
  /** How long taken feedback stays hidden before it can be taken again (unless acknowledged). */
  feedbackLockDurationMs: number;
}

export const DEFAULT_C2D_OPTIONS: Readonly<CloudToDeviceOptions> = Object.freeze({
  maxQueueDepth: 50,
  defaultTtlMs: HOUR_MS,
  maxTtlMs: 48 * HOUR_MS,
  lockDurationMs: MINUTE_MS,
  maxDeliveryCount: 10,
  feedbackTtlMs: HOUR_MS,
  feedbackLockDurationMs: MINUTE_MS,
});

/** Defaults plus `options`, validated; a bad value fails with the key's name. */
export function parseC2dOptions(options: Partial<CloudToDeviceOptions> = {}): Readonly<CloudToDeviceOptions> {
  const merged: CloudToDeviceOptions = { ...DEFAULT_C2D_OPTIONS };
  for (const [key, value] of Object.entries(options) as [keyof CloudToDeviceOptions, number | undefined][]) {
    if (value !== undefined) merged[key] = value;
  }
  for (const [key, value] of Object.entries(merged)) {
    if (!Number.isSafeInteger(value) || value < 1) throw argumentInvalid(`c2d.${key} must be a positive integer, got ${value}`);
  }
  if (merged.maxDeliveryCount > 100) throw argumentInvalid(`c2d.maxDeliveryCount must be from 1 to 100, got ${merged.maxDeliveryCount}`);
  if (merged.defaultTtlMs > merged.maxTtlMs) throw argumentInvalid('c2d.defaultTtlMs must not exceed c2d.maxTtlMs');
  return Object.freeze(merged);
}

/** Hooks fired after a commit, never inside a transaction; they must not throw (errors are logged). */
export interface C2dNotifier {
  /** A message became available to the device: sent, abandoned, or its lock released. */
  onMessageQueued(deviceId: string): void;
  /** Feedback records were stored for the service's feedback receiver. */
  onFeedbackRecorded?(): void;
}

export interface CloudToDeviceQueueDeps {
  store: C2dStore;
  clock: Clock;
  options?: Partial<CloudToDeviceOptions>;
  notifier?: C2dNotifier;
  logger?: Logger;
  /**
   * Batches of sends, receives and settlements in flight at once, each for its own share of the
   * devices (default 1). Within a lane, requests that arrive while a batch is in flight go
   * together in the next: one commit for many devices. More lanes than database connections
   * only shrink batches.
   */
  lanes?: number;
}

export interface ExpiryResult {
  expiredMessages: number;
  prunedFeedback: number;
}

/** How a device settles a delivery: MQTT PUBACK and AMQP accepted complete, AMQP rejected rejects, released/modified abandon. */
export type C2dSettlement = 'complete' | 'reject' | 'abandon';
const SETTLEMENTS: readonly C2dSettlement[] = ['complete', 'reject', 'abandon'];

interface PendingSettlement extends DeviceLock {
  settlement: C2dSettlement;
}

const lockKey = (lock: DeviceLock) => `${lock.deviceId}\u0000${lock.lockToken}`;
const uniqueLocks = (locks: readonly DeviceLock[]) => [...new Map(locks.map((lock) => [lockKey(lock), lock])).values()];

/** What one transaction did, reported (logs, notifier) only once it committed. */
interface Effects {
  removed: { message: CloudToDeviceMessage; statusCode: FeedbackStatusCode }[];
  feedbackCount: number;
}

/**
 * @example
 * const queue = new CloudToDeviceQueue({ store, clock: systemClock, notifier: { onMessageQueued: wakeSession } });
 * await queue.send('dev1', { body: new TextEncoder().encode('hi'), ack: 'full' });
 * const message = await queue.receive('dev1');   // locked for 60 s
 * if (message) await queue.complete('dev1', message.lockToken);
 */
export class CloudToDeviceQueue {
  readonly options: Readonly<CloudToDeviceOptions>;
  readonly #store: C2dStore;
  readonly #clock: Clock;
  readonly #notifier: C2dNotifier | undefined;
  readonly #logger: Logger;
  readonly #lanes: number;
  readonly #sends = new KeyedBatches<number, PreparedCloudToDeviceMessage, EnqueueResult>((_lane, batch) => this.#sendBatch(batch));
  readonly #receives = new KeyedBatches<number, LockRequest, LockedCloudToDeviceMessage[]>((_lane, batch) => this.#receiveBatch(batch));
  readonly #settlements = new KeyedBatches<number, PendingSettlement, void>((_lane, batch) => this.#settleBatch(batch));

  constructor({ store, clock, options, notifier, logger = silentLogger, lanes = 1 }: CloudToDeviceQueueDeps) {
    if (!Number.isSafeInteger(lanes) || lanes < 1) throw argumentInvalid(`lanes must be a positive integer, got ${lanes}`);
    this.#lanes = lanes;
    this.options = parseC2dOptions(options);
    this.#store = store;
    this.#clock = clock;
    this.#notifier = notifier;
    this.#logger = logger;
  }

  /**
   * Queues a message for a device (not a module: only devices have C2D queues). Fails with
   * DeviceNotFound, DeviceMaximumQueueDepthExceeded (checked atomically with the insert),
   * MessageTooLarge or ArgumentInvalid (ack mode, expiry, message id).
   */
  async send(deviceId: string, input: CloudToDeviceMessageInput): Promise<CloudToDeviceMessage> {
    const now = this.#clock.now();
    const prepared = prepareCloudToDeviceMessage(input, {
      deviceId,
      nowMs: now,
      defaultTtlMs: this.options.defaultTtlMs,
      maxTtlMs: this.options.maxTtlMs,
    });
    const result = await this.#sends.submit(this.#lane(deviceId), prepared);
    const queued = result.isQueued
      ? { ...prepared, sequenceNumber: result.sequenceNumber, deviceGenerationId: result.deviceGenerationId }
      : await this.#enqueueAfterExpiry(prepared, now);
    if (!queued) throw queueDepthExceeded(deviceId, this.options.maxQueueDepth);
    this.#logger.debug('c2d_message_enqueued', { deviceId, messageId: queued.messageId, sequenceNumber: queued.sequenceNumber });
    this.#messageQueued(deviceId);
    return queued;
  }

  /**
   * Locks and returns the oldest available message (FIFO), or undefined when none is; DeviceNotFound
   * when the device is not registered. See `receiveMany`.
   */
  async receive(deviceId: string): Promise<LockedCloudToDeviceMessage | undefined> {
    const [message] = await this.receiveMany(deviceId, 1);
    if (!message && !(await this.#store.hasDevice(deviceId))) throw deviceNotFound(deviceId);
    return message;
  }

  /**
   * Locks and returns up to `max` available messages, oldest first: what a session asks for to
   * fill its in-flight window, in one step. Each delivery counts; a message that would go past
   * `maxDeliveryCount` is dead-lettered instead (feedback DeliveryCountExceeded) and the next one
   * is taken. Expired messages are never returned. A device that is not registered has none.
   */
  async receiveMany(deviceId: string, max: number): Promise<LockedCloudToDeviceMessage[]> {
    const delivered: LockedCloudToDeviceMessage[] = [];
    while (delivered.length < max) {
      const locked = await this.#receives.submit(this.#lane(deviceId), { deviceId, max: max - delivered.length });
      const exceeded = locked.filter((message) => message.deliveryCount > this.options.maxDeliveryCount);
      delivered.push(...locked.filter((message) => message.deliveryCount <= this.options.maxDeliveryCount));
      if (exceeded.length === 0) break;
      await this.#removeLocked(exceeded, 'DeliveryCountExceeded', this.#clock.now());
    }
    return delivered;
  }

  /**
   * Settles a delivery of this device's queue. DeviceMessageLockLost when the token is unknown,
   * belongs to another device, was already settled or its lock ran out; DeviceNotFound when the
   * device is gone.
   */
  async settle(deviceId: string, lockToken: string, settlement: C2dSettlement): Promise<void> {
    if (!SETTLEMENTS.includes(settlement)) throw argumentInvalid(`A settlement is one of ${SETTLEMENTS.join(', ')}`);
    await this.#settlements.submit(this.#lane(deviceId), { deviceId, lockToken, settlement });
  }

  /** Settles a delivery as done: the message leaves the queue (feedback Success). */
  async complete(deviceId: string, lockToken: string): Promise<void> {
    await this.settle(deviceId, lockToken, 'complete');
  }

  /** Settles a delivery as refused: the message is dead-lettered (feedback Rejected). */
  async reject(deviceId: string, lockToken: string): Promise<void> {
    await this.settle(deviceId, lockToken, 'reject');
  }

  /** Gives a delivery back: the message is available again, its delivery count kept. */
  async abandon(deviceId: string, lockToken: string): Promise<void> {
    await this.settle(deviceId, lockToken, 'abandon');
  }

  /**
   * Abandon semantics for deliveries a device can no longer settle because its connection ended
   * (MQTT published without PUBACK, AMQP unsettled deliveries). With `lockTokens`, only those;
   * without, every live lock of the device. The delivery count is kept, so a message that makes a
   * device drop its connection each time is still dead-lettered after `maxDeliveryCount`. Unknown
   * and expired tokens are skipped; a missing device releases nothing. Returns how many were released.
   */
  async releaseLocks(deviceId: string, lockTokens?: readonly string[]): Promise<number> {
    const tokens = lockTokens && [...new Set(lockTokens)].filter((lockToken) => lockToken !== '');
    if (tokens?.length === 0) return 0;
    const released = await this.#store.releaseLocked(deviceId, tokens, this.#clock.now());
    if (released.length > 0) {
      this.#logger.debug('c2d_locks_released', { deviceId, released: released.length });
      this.#messageQueued(deviceId);
    }
    return released.length;
  }

  /**
   * Empties the device's queue (`DELETE /devices/{id}/commands`), locked messages included;
   * returns how many were removed. Messages sent with ack negative/full earn feedback Purged:
   * the status exists in IoT Hub's vocabulary for exactly this outcome, and a sender that asked
   * for failure feedback should learn its message will never arrive.
   */
  async purge(deviceId: string): Promise<number> {
    const now = this.#clock.now();
    return this.#onDeviceQueue(deviceId, async (queue, effects) => {
      const messages = await queue.list();
      await this.#removeWith(queue, messages, 'Purged', now, effects);
      return messages.length;
    });
  }

  /** The queued messages, oldest first, without locking anything (the console's view). */
  async peek(deviceId: string): Promise<CloudToDeviceMessage[]> {
    const now = this.#clock.now();
    return this.#onDeviceQueue(deviceId, async (queue, effects) => {
      await this.#expire(queue, now, effects);
      return queue.list();
    });
  }

  /**
   * The periodic sweep: removes every expired message (feedback Expired), locked or not, and
   * prunes feedback older than `feedbackTtlMs`. Receives skip expired messages and a send that
   * finds the queue full expires first, so until the sweep comes an expired message only shows in
   * the registry's message count and delays its Expired feedback.
   */
  async expireDue(): Promise<ExpiryResult> {
    const now = this.#clock.now();
    let expiredMessages = 0;
    for (const deviceId of await this.#store.devicesWithExpiredMessages(now)) {
      const effects: Effects = { removed: [], feedbackCount: 0 };
      const outcome = await this.#store.withDeviceQueue(deviceId, (queue) => this.#expire(queue, now, effects));
      if (!outcome.isDeviceFound) continue;
      expiredMessages += outcome.result;
      this.#committed(deviceId, effects);
    }
    const prunedFeedback = await this.#store.pruneFeedback(now - this.options.feedbackTtlMs);
    return { expiredMessages, prunedFeedback };
  }

  /**
   * Takes up to `max` feedback records for the service's feedback receiver, oldest first. They
   * stay hidden from other takers for `feedbackLockDurationMs`; acknowledge them once delivered,
   * abandon them to hand them out again.
   */
  async takeFeedback(max: number = MAX_FEEDBACK_BATCH): Promise<FeedbackRecord[]> {
    if (!Number.isSafeInteger(max) || max < 1) throw argumentInvalid(`max must be a positive integer, got ${max}`);
    const now = this.#clock.now();
    return this.#store.takeFeedback(max, now, now + this.options.feedbackLockDurationMs);
  }

  /** Deletes delivered feedback records; returns how many existed. */
  async acknowledgeFeedback(ids: readonly number[]): Promise<number> {
    return ids.length === 0 ? 0 : this.#store.deleteFeedback(ids);
  }

  /** Makes taken feedback records available again; returns how many existed. */
  /**
   * Hands records out again. Not announced through `onFeedbackRecorded`: that means new feedback,
   * and a receiver that released a batch should not get it back in a hot loop; readers poll.
   */
  async abandonFeedback(ids: readonly number[]): Promise<number> {
    return ids.length === 0 ? 0 : this.#store.releaseFeedback(ids);
  }

  /** Which lane a device's requests go through. */
  #lane(deviceId: string): number {
    return partitionFor(deviceId, this.#lanes);
  }

  async #sendBatch(batch: readonly BatchEntry<PreparedCloudToDeviceMessage, EnqueueResult>[]): Promise<void> {
    const results = await this.#store.enqueue(
      batch.map((entry) => entry.request),
      this.options.maxQueueDepth,
    );
    batch.forEach((entry, index) => entry.resolve(results[index]!));
  }

  /** One lock step for every device asking; each request gets its device's messages, oldest first, up to its max. */
  async #receiveBatch(batch: readonly BatchEntry<LockRequest, LockedCloudToDeviceMessage[]>[]): Promise<void> {
    const wanted = new Map<string, number>();
    for (const { request } of batch) wanted.set(request.deviceId, (wanted.get(request.deviceId) ?? 0) + request.max);
    const now = this.#clock.now();
    const requests = [...wanted].map(([deviceId, max]) => ({ deviceId, max }));
    const locked = await this.#store.lockAvailable(requests, now, now + this.options.lockDurationMs);
    for (const entry of batch) {
      const own = locked.filter((message) => message.deviceId === entry.request.deviceId);
      const taken = own.slice(0, entry.request.max);
      for (const message of taken) locked.splice(locked.indexOf(message), 1);
      entry.resolve(taken);
    }
  }

  /**
   * Settles a batch: one step per kind of settlement present (usually just completes). A lock
   * settles once; the rest fail with DeviceMessageLockLost, or DeviceNotFound when the device is
   * gone.
   */
  async #settleBatch(batch: readonly BatchEntry<PendingSettlement, void>[]): Promise<void> {
    const now = this.#clock.now();
    const unsettled: BatchEntry<PendingSettlement, void>[] = [];
    for (const settlement of SETTLEMENTS) {
      const entries = batch.filter((entry) => entry.request.settlement === settlement);
      if (entries.length === 0) continue;
      const settled = new Set(await this.#settleLocks(entries.map((entry) => entry.request), settlement, now));
      for (const entry of entries) {
        if (settled.delete(lockKey(entry.request))) entry.resolve();
        else unsettled.push(entry);
      }
    }
    for (const deviceId of new Set(unsettled.map((entry) => entry.request.deviceId))) {
      const error = (await this.#store.hasDevice(deviceId)) ? messageLockLost(deviceId) : deviceNotFound(deviceId);
      for (const entry of unsettled) if (entry.request.deviceId === deviceId) entry.reject(error);
    }
  }

  /** Returns the keys (`lockKey`) of the locks that were live and are now settled. */
  async #settleLocks(locks: readonly DeviceLock[], settlement: C2dSettlement, now: number): Promise<string[]> {
    const live = uniqueLocks(locks.filter((lock) => lock.lockToken !== ''));
    if (live.length === 0) return [];
    if (settlement !== 'abandon') {
      return (await this.#removeLocked(live, settlement === 'complete' ? 'Success' : 'Rejected', now)).map(lockKey);
    }
    const settled: string[] = [];
    for (const deviceId of new Set(live.map((lock) => lock.deviceId))) {
      const tokens = live.filter((lock) => lock.deviceId === deviceId).map((lock) => lock.lockToken);
      const released = await this.#store.releaseLocked(deviceId, tokens, now);
      if (released.length === 0) continue;
      this.#logger.debug('c2d_message_abandoned', { deviceId, lockTokens: released });
      this.#messageQueued(deviceId);
      settled.push(...released.map((lockToken) => lockKey({ deviceId, lockToken })));
    }
    return settled;
  }

  /** Removes locked messages with the outcome `statusCode` and the feedback their ack modes ask for, in one step. */
  async #removeLocked(locks: readonly DeviceLock[], statusCode: FeedbackStatusCode, now: number): Promise<RemovedMessage[]> {
    const outcome = feedbackOutcome(statusCode, now);
    const removed = await this.#store.removeLocked(locks, now, outcome);
    for (const message of removed) {
      this.#logger.debug(REMOVAL_EVENTS[statusCode], { deviceId: message.deviceId, messageId: message.messageId, deliveryCount: message.deliveryCount });
    }
    if (removed.some((message) => outcome.acks.includes(message.ack))) this.#feedbackRecorded();
    return removed;
  }

  /**
   * The queue looked full (or the device unknown): expired messages the sweep has not reached yet
   * may hold the places, so expire them and try again, in one transaction. DeviceNotFound when
   * the device is not registered.
   */
  #enqueueAfterExpiry(prepared: PreparedCloudToDeviceMessage, now: number): Promise<CloudToDeviceMessage | undefined> {
    return this.#onDeviceQueue(prepared.deviceId, async (queue, effects) => {
      await this.#expire(queue, now, effects);
      if ((await queue.count()) >= this.options.maxQueueDepth) return undefined;
      return queue.insert({ ...prepared, deviceGenerationId: queue.generationId });
    });
  }

  /** Runs `work` on the device's queue; DeviceNotFound when the device is not registered. */
  async #onDeviceQueue<T>(
    deviceId: string,
    work: (queue: C2dDeviceQueue, effects: Effects) => Promise<T>,
  ): Promise<T> {
    const effects: Effects = { removed: [], feedbackCount: 0 };
    const outcome = await this.#store.withDeviceQueue(deviceId, (queue) => work(queue, effects));
    if (!outcome.isDeviceFound) throw deviceNotFound(deviceId);
    this.#committed(deviceId, effects);
    return outcome.result;
  }

  async #expire(queue: C2dDeviceQueue, now: number, effects: Effects): Promise<number> {
    const expired = await queue.expired(now);
    await this.#removeWith(queue, expired, 'Expired', now, effects);
    return expired.length;
  }

  /** Removes messages with the outcome `statusCode`, recording the feedback their ack modes ask for. */
  async #removeWith(
    queue: C2dDeviceQueue,
    messages: readonly CloudToDeviceMessage[],
    statusCode: FeedbackStatusCode,
    now: number,
    effects: Effects,
  ): Promise<void> {
    if (messages.length === 0) return;
    await queue.remove(messages.map((message) => message.sequenceNumber));
    const feedback = messages
      .map((message) => feedbackFor(message, statusCode, now))
      .filter((record): record is NewFeedbackRecord => record !== undefined);
    if (feedback.length > 0) await queue.addFeedback(feedback);
    effects.removed.push(...messages.map((message) => ({ message, statusCode })));
    effects.feedbackCount += feedback.length;
  }

  #committed(deviceId: string, effects: Effects): void {
    for (const { message, statusCode } of effects.removed) {
      this.#logger.debug(REMOVAL_EVENTS[statusCode], { deviceId, messageId: message.messageId, deliveryCount: message.deliveryCount });
    }
    if (effects.feedbackCount > 0) this.#feedbackRecorded();
  }

  #messageQueued(deviceId: string): void {
    try {
      this.#notifier?.onMessageQueued(deviceId);
    } catch (error) {
      this.#logger.error('c2d_notifier_failed', { deviceId, error });
    }
  }

  #feedbackRecorded(): void {
    try {
      this.#notifier?.onFeedbackRecorded?.();
    } catch (error) {
      this.#logger.error('c2d_notifier_failed', { error });
    }
  }
}

const REMOVAL_EVENTS: Record<FeedbackStatusCode, string> = {
  Success: 'c2d_message_completed',
  Rejected: 'c2d_message_rejected',
  Expired: 'c2d_message_expired',
  DeliveryCountExceeded: 'c2d_message_dead_lettered',
  Purged: 'c2d_message_purged',
};
