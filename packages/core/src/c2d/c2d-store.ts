/**
 * The store port of cloud-to-device messaging. Like the other ports it holds no IoT Hub rules:
 * it gives the queue (`c2d-queue.ts`) atomic steps on one device's queue (enqueue under the depth
 * limit, lock, remove, release), the whole queue inside a transaction that excludes every other
 * change to it, and the hub-wide feedback table. packages/db implements it on
 * PGlite and PostgreSQL, `testing/memory-c2d-store.ts` in memory; all pass
 * `testing/c2d-store-contract.ts`.
 * @module
 */

import type {
  CloudToDeviceMessage,
  LockedCloudToDeviceMessage,
  NewCloudToDeviceMessage,
  PreparedCloudToDeviceMessage,
} from './c2d-message.ts';
import type { FeedbackOutcome, FeedbackRecord, NewFeedbackRecord } from './feedback.ts';

/**
 * One device's queue inside a transaction, for the operations that read or change the queue as a
 * whole (purge, peek, the expiry sweep, a send that found the queue full). Every method sees the
 * writes made before it in the same transaction; nothing is visible to others until it commits.
 */
export interface C2dDeviceQueue {
  readonly deviceId: string;
  /** The device's current generationId. */
  readonly generationId: string;
  /** How many messages the queue holds (locked and expired ones included). */
  count(): Promise<number>;
  /** Queues a message and returns it with its sequence number (greater than every earlier one). */
  insert(message: NewCloudToDeviceMessage): Promise<CloudToDeviceMessage>;
  /** Every message, oldest first. */
  list(): Promise<CloudToDeviceMessage[]>;
  /** Messages whose expiryTime is at or before `now`, oldest first. */
  expired(now: number): Promise<CloudToDeviceMessage[]>;
  /** Removes messages of this device; returns how many were removed. */
  remove(sequenceNumbers: readonly number[]): Promise<number>;
  /** Records feedback; it commits with the transaction. */
  addFeedback(records: readonly NewFeedbackRecord[]): Promise<void>;
}

/** What `enqueue` did with one message: queued, or nothing because the queue is full or the device unknown. */
export type EnqueueResult = { isQueued: true; sequenceNumber: number; deviceGenerationId: string } | { isQueued: false };

/** How many messages one device's session can take now. */
export interface LockRequest {
  deviceId: string;
  max: number;
}

/** A delivery to settle: the device it was made to and its lock token. */
export interface DeviceLock {
  deviceId: string;
  lockToken: string;
}

/** A message `removeLocked` took out of a queue, as it was. */
export type RemovedMessage = Pick<CloudToDeviceMessage, 'sequenceNumber' | 'messageId' | 'deviceId' | 'ack' | 'deliveryCount'> & {
  lockToken: string;
};

export type DeviceQueueResult<T> = { isDeviceFound: true; result: T } | { isDeviceFound: false };

/**
 * The hot path (send, receive, settle) takes many devices' requests in one atomic step, so the
 * queue can group-commit them; whole-queue work goes through `withDeviceQueue`. Both keep the
 * device's `cloudToDeviceMessageCount` equal to the size of its queue at every commit.
 */
export interface C2dStore {
  /**
   * Queues messages, in order, for their devices (several devices, and several messages per
   * device, in one atomic step), each stamped with its device's current generationId, as long as
   * the device is registered and its queue holds fewer than `maxDepth` messages (expired ones
   * included). Answers one result per message, in order; a message not queued changed nothing
   * (`withDeviceQueue` tells a full queue from an unknown device).
   */
  enqueue(messages: readonly PreparedCloudToDeviceMessage[], maxDepth: number): Promise<EnqueueResult[]>;
  /**
   * For each request, locks up to `max` of that device's messages that are not expired at `now`
   * and not locked (never locked, released, or the lock ran out), oldest first: each gets a new
   * unique lock token, `lockedUntil` and one more delivery. Concurrent callers never lock the same
   * message. Returns them all, oldest first per device; none for a device that is not registered.
   */
  lockAvailable(requests: readonly LockRequest[], now: number, lockedUntil: number): Promise<LockedCloudToDeviceMessage[]>;
  /**
   * Removes the messages whose lock is one of `locks` (token and device both match) and is live
   * at `now`, and in the same atomic step records `feedback` for each whose ack mode is in
   * `feedback.acks`. Returns what it removed; locks it did not find are simply absent.
   */
  removeLocked(locks: readonly DeviceLock[], now: number, feedback: FeedbackOutcome): Promise<RemovedMessage[]>;
  /**
   * Makes the device's messages available again whose lock is live at `now` and whose token is
   * one of `lockTokens` (every live lock when undefined), delivery counts kept. Returns the
   * released tokens.
   */
  releaseLocked(deviceId: string, lockTokens: readonly string[] | undefined, now: number): Promise<string[]>;
  /** Whether the device is registered (only a device has a queue). */
  hasDevice(deviceId: string): Promise<boolean>;
  /**
   * Runs `work` on the device's queue in one transaction, serialised with every other change to
   * that queue (on PostgreSQL across processes: the device row is locked). When `work` resolves,
   * the device's `cloudToDeviceMessageCount` is set to the queue's size and everything commits;
   * when it throws, nothing does. A device that is not registered yields `{isDeviceFound: false}`
   * without running `work`. Deleting a device deletes its queue.
   */
  withDeviceQueue<T>(deviceId: string, work: (queue: C2dDeviceQueue) => Promise<T>): Promise<DeviceQueueResult<T>>;
  /** Ids of devices holding a message expired at `now` (the sweep then visits each). */
  devicesWithExpiredMessages(now: number): Promise<string[]>;

  /**
   * Takes up to `max` feedback records that are not taken (or whose take ran out at `now`), oldest
   * first, and hides them from other takers until `lockedUntil`. Concurrent takers never get the
   * same record.
   */
  takeFeedback(max: number, now: number, lockedUntil: number): Promise<FeedbackRecord[]>;
  /** Deletes feedback records; returns how many existed. */
  deleteFeedback(ids: readonly number[]): Promise<number>;
  /** Makes taken records available again; returns how many existed. */
  releaseFeedback(ids: readonly number[]): Promise<number>;
  /** Deletes records enqueued before `enqueuedBefore` (feedback TTL); returns how many. */
  pruneFeedback(enqueuedBefore: number): Promise<number>;
}
