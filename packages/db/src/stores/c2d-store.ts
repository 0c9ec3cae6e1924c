/**
 * C2dStore on drizzle. Every device-queue transaction first locks the device row (`FOR NO KEY
 * UPDATE`), which serialises all queue changes of one device across connections and hub
 * processes: the depth check and the insert cannot interleave with a concurrent send, and two
 * receivers cannot lock the same message. Registry deletes take the same row lock, so a queue
 * never outlives its device. The lock is taken before any message row (deadlock-free ordering).
 * Row ↔ record mapping lives here and nowhere else.
 * @module
 */

import { and, asc, count, eq, gt, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type {
  C2dDeviceQueue,
  C2dLockChange,
  C2dStore,
  CloudToDeviceMessage,
  DeviceQueueResult,
  FeedbackRecord,
  NewCloudToDeviceMessage,
  NewFeedbackRecord,
} from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { c2dFeedback, c2dMessages } from '../schema/cloud-to-device.ts';
import { devices } from '../schema/devices.ts';

type MessageRow = typeof c2dMessages.$inferSelect;
type FeedbackRow = typeof c2dFeedback.$inferSelect;

const messageOf = (row: MessageRow): CloudToDeviceMessage => ({
  sequenceNumber: row.sequenceNumber,
  messageId: row.messageId,
  deviceId: row.deviceId,
  deviceGenerationId: row.deviceGenerationId,
  body: row.body,
  systemProperties: row.systemProperties,
  applicationProperties: row.applicationProperties,
  ack: row.ack,
  enqueuedTime: row.enqueuedTime,
  expiryTime: row.expiryTime,
  deliveryCount: row.deliveryCount,
  lockToken: row.lockToken,
  lockedUntil: row.lockedUntil,
});

const messageColumns = (message: NewCloudToDeviceMessage) => ({
  messageId: message.messageId,
  deviceId: message.deviceId,
  deviceGenerationId: message.deviceGenerationId,
  body: message.body,
  systemProperties: message.systemProperties,
  applicationProperties: message.applicationProperties,
  ack: message.ack,
  enqueuedTime: message.enqueuedTime,
  expiryTime: message.expiryTime,
  deliveryCount: message.deliveryCount,
  lockToken: message.lockToken,
  lockedUntil: message.lockedUntil,
});

const feedbackOf = (row: FeedbackRow): FeedbackRecord => ({
  id: row.id,
  originalMessageId: row.originalMessageId,
  deviceId: row.deviceId,
  deviceGenerationId: row.deviceGenerationId,
  statusCode: row.statusCode,
  description: row.description,
  enqueuedTimeUtc: row.enqueuedTime,
});

const feedbackColumns = (record: NewFeedbackRecord) => ({
  originalMessageId: record.originalMessageId,
  deviceId: record.deviceId,
  deviceGenerationId: record.deviceGenerationId,
  statusCode: record.statusCode,
  description: record.description,
  enqueuedTime: record.enqueuedTimeUtc,
});

const byId = (a: { id: number }, b: { id: number }) => a.id - b.id;
const unique = <T>(values: readonly T[]) => [...new Set(values)];

/** One device's queue inside the transaction that holds its device row. */
class DrizzleDeviceQueue implements C2dDeviceQueue {
  constructor(
    private readonly tx: HubDatabase,
    readonly deviceId: string,
    readonly generationId: string,
  ) {}

  #own() {
    return eq(c2dMessages.deviceId, this.deviceId);
  }

  async count(): Promise<number> {
    const [row] = await this.tx.select({ total: count() }).from(c2dMessages).where(this.#own());
    return row?.total ?? 0;
  }

  async insert(message: NewCloudToDeviceMessage): Promise<CloudToDeviceMessage> {
    const [row] = await this.tx.insert(c2dMessages).values(messageColumns(message)).returning();
    return messageOf(row!);
  }

  async list(): Promise<CloudToDeviceMessage[]> {
    const rows = await this.tx.select().from(c2dMessages).where(this.#own()).orderBy(asc(c2dMessages.sequenceNumber));
    return rows.map(messageOf);
  }

  async nextAvailable(now: number): Promise<CloudToDeviceMessage | undefined> {
    const [row] = await this.tx
      .select()
      .from(c2dMessages)
      .where(
        and(
          this.#own(),
          gt(c2dMessages.expiryTime, now),
          or(isNull(c2dMessages.lockedUntil), lte(c2dMessages.lockedUntil, now)),
        ),
      )
      .orderBy(asc(c2dMessages.sequenceNumber))
      .limit(1);
    return row && messageOf(row);
  }

  async findByLockToken(lockToken: string): Promise<CloudToDeviceMessage | undefined> {
    const [row] = await this.tx
      .select()
      .from(c2dMessages)
      .where(and(this.#own(), eq(c2dMessages.lockToken, lockToken)));
    return row && messageOf(row);
  }

  async expired(now: number): Promise<CloudToDeviceMessage[]> {
    const rows = await this.tx
      .select()
      .from(c2dMessages)
      .where(and(this.#own(), lte(c2dMessages.expiryTime, now)))
      .orderBy(asc(c2dMessages.sequenceNumber));
    return rows.map(messageOf);
  }

  async updateLock(sequenceNumber: number, change: C2dLockChange): Promise<boolean> {
    const updated = await this.tx
      .update(c2dMessages)
      .set({ lockToken: change.lockToken, lockedUntil: change.lockedUntil, deliveryCount: change.deliveryCount })
      .where(and(this.#own(), eq(c2dMessages.sequenceNumber, sequenceNumber)))
      .returning({ sequenceNumber: c2dMessages.sequenceNumber });
    return updated.length === 1;
  }

  async remove(sequenceNumbers: readonly number[]): Promise<number> {
    if (sequenceNumbers.length === 0) return 0;
    const removed = await this.tx
      .delete(c2dMessages)
      .where(and(this.#own(), inArray(c2dMessages.sequenceNumber, unique(sequenceNumbers))))
      .returning({ sequenceNumber: c2dMessages.sequenceNumber });
    return removed.length;
  }

  async addFeedback(records: readonly NewFeedbackRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.tx.insert(c2dFeedback).values(records.map(feedbackColumns));
  }
}

export class DrizzleC2dStore implements C2dStore {
  constructor(private readonly db: HubDatabase) {}

  async withDeviceQueue<T>(deviceId: string, work: (queue: C2dDeviceQueue) => Promise<T>): Promise<DeviceQueueResult<T>> {
    return this.db.transaction(async (transaction): Promise<DeviceQueueResult<T>> => {
      const tx = transaction as unknown as HubDatabase;
      const [device] = await tx
        .select({ generationId: devices.generationId })
        .from(devices)
        .where(eq(devices.deviceId, deviceId))
        .for('no key update');
      if (!device) return { isDeviceFound: false };
      const result = await work(new DrizzleDeviceQueue(tx, deviceId, device.generationId));
      // Recounted rather than adjusted, so the registry's figure cannot drift from the queue;
      // written only when it changed, so reads (peek, an empty receive) leave the row alone.
      const queued = sql<number>`(select count(*)::integer from ${c2dMessages} where ${c2dMessages.deviceId} = ${deviceId})`;
      await tx
        .update(devices)
        .set({ cloudToDeviceMessageCount: queued })
        .where(and(eq(devices.deviceId, deviceId), sql`${devices.cloudToDeviceMessageCount} <> ${queued}`));
      return { isDeviceFound: true, result };
    });
  }

  async devicesWithExpiredMessages(now: number): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ deviceId: c2dMessages.deviceId })
      .from(c2dMessages)
      .where(lte(c2dMessages.expiryTime, now));
    return rows.map((row) => row.deviceId);
  }

  async takeFeedback(max: number, now: number, lockedUntil: number): Promise<FeedbackRecord[]> {
    // One statement: SKIP LOCKED keeps concurrent takers (other hub processes) off each other's rows.
    const available = this.db
      .select({ id: c2dFeedback.id })
      .from(c2dFeedback)
      .where(or(isNull(c2dFeedback.lockedUntil), lte(c2dFeedback.lockedUntil, now)))
      .orderBy(asc(c2dFeedback.id))
      .limit(max)
      .for('update', { skipLocked: true });
    const rows = await this.db.update(c2dFeedback).set({ lockedUntil }).where(inArray(c2dFeedback.id, available)).returning();
    return rows.map(feedbackOf).sort(byId);
  }

  async deleteFeedback(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const deleted = await this.db
      .delete(c2dFeedback)
      .where(inArray(c2dFeedback.id, unique(ids)))
      .returning({ id: c2dFeedback.id });
    return deleted.length;
  }

  async releaseFeedback(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const released = await this.db
      .update(c2dFeedback)
      .set({ lockedUntil: null })
      .where(inArray(c2dFeedback.id, unique(ids)))
      .returning({ id: c2dFeedback.id });
    return released.length;
  }

  async pruneFeedback(enqueuedBefore: number): Promise<number> {
    const pruned = await this.db
      .delete(c2dFeedback)
      .where(lt(c2dFeedback.enqueuedTime, enqueuedBefore))
      .returning({ id: c2dFeedback.id });
    return pruned.length;
  }
}
