/**
 * The store port of cloud-to-device messaging. Like the other ports it holds no IoT Hub rules:
 * it gives the queue (`c2d-queue.ts`) one device's queue inside a transaction that excludes every
 * other change to that queue, plus the hub-wide feedback table. packages/db implements it on
 * PGlite and PostgreSQL, `testing/memory-c2d-store.ts` in memory; all pass
 * `testing/c2d-store-contract.ts`.
 * @module
 */

import type { CloudToDeviceMessage, NewCloudToDeviceMessage } from './c2d-message.ts';
import type { FeedbackRecord, NewFeedbackRecord } from './feedback.ts';

/** What a delivery or settlement changes on a message. */
export interface C2dLockChange {
  lockToken: string | null;
  lockedUntil: number | null;
  deliveryCount: number;
}

/**
 * One device's queue inside a transaction. Every method sees the writes made before it in the
 * same transaction; nothing is visible to others until the transaction commits.
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
  /** The oldest message not expired at `now` and not locked (never locked, released, or its lock ran out). */
  nextAvailable(now: number): Promise<CloudToDeviceMessage | undefined>;
  /** The message of this device holding `lockToken`, whatever its lockedUntil. */
  findByLockToken(lockToken: string): Promise<CloudToDeviceMessage | undefined>;
  /** Messages whose expiryTime is at or before `now`, oldest first. */
  expired(now: number): Promise<CloudToDeviceMessage[]>;
  /** Sets lock and delivery count of one message; false when it is gone. */
  updateLock(sequenceNumber: number, change: C2dLockChange): Promise<boolean>;
  /** Removes messages of this device; returns how many were removed. */
  remove(sequenceNumbers: readonly number[]): Promise<number>;
  /** Records feedback; it commits with the transaction. */
  addFeedback(records: readonly NewFeedbackRecord[]): Promise<void>;
}

export type DeviceQueueResult<T> = { isDeviceFound: true; result: T } | { isDeviceFound: false };

export interface C2dStore {
  /**
   * Runs `work` on the device's queue in one transaction, serialised with every other
   * `withDeviceQueue` of the same device (on PostgreSQL across processes: the device row is
   * locked). When `work` resolves, the device's `cloudToDeviceMessageCount` is set to the queue's
   * size and everything commits; when it throws, nothing does. A device that is not registered
   * yields `{isDeviceFound: false}` without running `work`. Deleting a device deletes its queue.
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
