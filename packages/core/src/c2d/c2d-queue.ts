/**
 * The cloud-to-device queue: the one place that owns IoT Hub's C2D life cycle (IoT Hub "Send
 * cloud-to-device messages", azure-wire-protocol.md §8 and §12): per-device FIFO queues with a
 * depth limit, TTL and expiry, lock tokens, delivery counts and dead-lettering, the
 * complete/reject/abandon settlements, purge, and feedback per `iothub-ack`. It knows no protocol:
 * adapters map MQTT PUBACK, AMQP dispositions and HTTPS verbs onto these calls (§4.3, §5.3, §6),
 * and pushing a message to a connected device is the session's job, woken by the notifier.
 * @module
 */

import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { argumentInvalid, deviceNotFound } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import {
  type CloudToDeviceMessage,
  type CloudToDeviceMessageInput,
  type LockedCloudToDeviceMessage,
  messageLockLost,
  prepareCloudToDeviceMessage,
  queueDepthExceeded,
} from './c2d-message.ts';
import type { C2dDeviceQueue, C2dStore } from './c2d-store.ts';
import { type FeedbackRecord, type FeedbackStatusCode, feedbackFor, MAX_FEEDBACK_BATCH, type NewFeedbackRecord } from './feedback.ts';

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
}

export interface ExpiryResult {
  expiredMessages: number;
  prunedFeedback: number;
}

/** How a device settles a delivery: MQTT PUBACK and AMQP accepted complete, AMQP rejected rejects, released/modified abandon. */
export type C2dSettlement = 'complete' | 'reject' | 'abandon';
const SETTLEMENTS: readonly C2dSettlement[] = ['complete', 'reject', 'abandon'];

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

  constructor({ store, clock, options, notifier, logger = silentLogger }: CloudToDeviceQueueDeps) {
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
    const queued = await this.#onDeviceQueue(deviceId, async (queue, effects) => {
      await this.#expire(queue, now, effects);
      if ((await queue.count()) >= this.options.maxQueueDepth) return undefined;
      return queue.insert({ ...prepared, deviceGenerationId: queue.generationId });
    });
    if (!queued) throw queueDepthExceeded(deviceId, this.options.maxQueueDepth);
    this.#logger.debug('c2d_message_enqueued', { deviceId, messageId: queued.messageId, sequenceNumber: queued.sequenceNumber });
    this.#messageQueued(deviceId);
    return queued;
  }

  /**
   * Locks and returns the oldest available message (FIFO), or undefined when none is. Each
   * delivery counts; a message that would go past `maxDeliveryCount` is dead-lettered instead
   * (feedback DeliveryCountExceeded) and the next one is tried. Expired messages are never returned.
   */
  async receive(deviceId: string): Promise<LockedCloudToDeviceMessage | undefined> {
    const now = this.#clock.now();
    return this.#onDeviceQueue(deviceId, async (queue, effects) => {
      await this.#expire(queue, now, effects);
      for (;;) {
        const next = await queue.nextAvailable(now);
        if (!next) return undefined;
        const deliveryCount = next.deliveryCount + 1;
        if (deliveryCount > this.options.maxDeliveryCount) {
          await this.#removeWith(queue, [next], 'DeliveryCountExceeded', now, effects);
          continue;
        }
        const lock = { lockToken: randomUUID(), lockedUntil: now + this.options.lockDurationMs, deliveryCount };
        await queue.updateLock(next.sequenceNumber, lock);
        return { ...next, ...lock };
      }
    });
  }

  /**
   * Settles a delivery of this device's queue. DeviceMessageLockLost when the token is unknown,
   * belongs to another device, was already settled or its lock ran out; DeviceNotFound when the
   * device is gone.
   */
  async settle(deviceId: string, lockToken: string, settlement: C2dSettlement): Promise<void> {
    if (!SETTLEMENTS.includes(settlement)) throw argumentInvalid(`A settlement is one of ${SETTLEMENTS.join(', ')}`);
    await this.#settle(deviceId, lockToken, settlement);
  }

  /** Settles a delivery as done: the message leaves the queue (feedback Success). */
  async complete(deviceId: string, lockToken: string): Promise<void> {
    await this.#settle(deviceId, lockToken, 'complete');
  }

  /** Settles a delivery as refused: the message is dead-lettered (feedback Rejected). */
  async reject(deviceId: string, lockToken: string): Promise<void> {
    await this.#settle(deviceId, lockToken, 'reject');
  }

  /** Gives a delivery back: the message is available again, its delivery count kept. */
  async abandon(deviceId: string, lockToken: string): Promise<void> {
    await this.#settle(deviceId, lockToken, 'abandon');
  }

  /**
   * Abandon semantics for deliveries a device can no longer settle because its connection ended
   * (MQTT published without PUBACK, AMQP unsettled deliveries). With `lockTokens`, only those;
   * without, every live lock of the device. The delivery count is kept, so a message that makes a
   * device drop its connection each time is still dead-lettered after `maxDeliveryCount`. Unknown
   * and expired tokens are skipped; a missing device releases nothing. Returns how many were released.
   */
  async releaseLocks(deviceId: string, lockTokens?: readonly string[]): Promise<number> {
    const now = this.#clock.now();
    const outcome = await this.#store.withDeviceQueue(deviceId, async (queue) => {
      const candidates = lockTokens
        ? await this.#findAll(queue, lockTokens)
        : (await queue.list()).filter((message) => message.lockToken !== null);
      let released = 0;
      for (const message of candidates) {
        if (message.lockedUntil === null || message.lockedUntil <= now) continue;
        await queue.updateLock(message.sequenceNumber, { lockToken: null, lockedUntil: null, deliveryCount: message.deliveryCount });
        released += 1;
      }
      return released;
    });
    const released = outcome.isDeviceFound ? outcome.result : 0;
    if (released > 0) {
      this.#logger.debug('c2d_locks_released', { deviceId, released });
      this.#messageQueued(deviceId);
    }
    return released;
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
   * prunes feedback older than `feedbackTtlMs`. Operations on a queue also expire its messages
   * first, so the sweep matters for idle devices, the registry's message count and feedback.
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

  async #settle(deviceId: string, lockToken: string, settlement: C2dSettlement): Promise<void> {
    const now = this.#clock.now();
    const settled = await this.#onDeviceQueue(deviceId, async (queue, effects) => {
      await this.#expire(queue, now, effects);
      const message = lockToken === '' ? undefined : await queue.findByLockToken(lockToken);
      if (!message || message.lockedUntil === null || message.lockedUntil <= now) return undefined;
      if (settlement === 'abandon') {
        await queue.updateLock(message.sequenceNumber, { lockToken: null, lockedUntil: null, deliveryCount: message.deliveryCount });
      } else {
        await this.#removeWith(queue, [message], settlement === 'complete' ? 'Success' : 'Rejected', now, effects);
      }
      return message;
    });
    if (!settled) throw messageLockLost(deviceId);
    if (settlement === 'abandon') {
      this.#logger.debug('c2d_message_abandoned', { deviceId, messageId: settled.messageId });
      this.#messageQueued(deviceId);
    }
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

  async #findAll(queue: C2dDeviceQueue, lockTokens: readonly string[]): Promise<CloudToDeviceMessage[]> {
    const found: CloudToDeviceMessage[] = [];
    for (const lockToken of new Set(lockTokens)) {
      const message = lockToken === '' ? undefined : await queue.findByLockToken(lockToken);
      if (message) found.push(message);
    }
    return found;
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
