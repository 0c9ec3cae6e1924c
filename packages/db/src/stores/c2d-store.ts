/**
 * C2dStore on drizzle. Every change to a queue's size locks its device row before any message row,
 * in the order of device-locks.ts: so the depth check and the insert cannot interleave with a
 * concurrent send, the registry's `cloudToDeviceMessageCount` moves with the queue in the same
 * transaction, and no two steps deadlock. Registry deletes take the same row lock, so a queue never outlives its device.
 * Locking messages for delivery touches only message rows (`FOR UPDATE SKIP LOCKED`), so two
 * receivers never get the same message and never wait for each other. Row ↔ record mapping
 * lives here and nowhere else.
 * @module
 */

import { and, asc, count, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type {
  C2dDeviceQueue,
  C2dStore,
  CloudToDeviceMessage,
  DeviceLock,
  DeviceQueueResult,
  EnqueueResult,
  FeedbackOutcome,
  FeedbackRecord,
  LockedCloudToDeviceMessage,
  LockRequest,
  NewCloudToDeviceMessage,
  NewFeedbackRecord,
  PreparedCloudToDeviceMessage,
  RemovedMessage,
} from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { c2dFeedback, c2dMessages } from '../schema/cloud-to-device.ts';
import { devices } from '../schema/devices.ts';
import { lockDevicesInOrder } from './device-locks.ts';
import { base64Of, bytesOfBase64, type DriverStatement, driverStatements, rowsOf, statementText } from './raw-sql.ts';

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

const messageColumns = (message: NewCloudToDeviceMessage): typeof c2dMessages.$inferInsert => ({
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
/** A time parameter of a raw statement, encoded as the columns encode it. */
const timeParam = (epochMs: number) => sql.param(epochMs, c2dMessages.enqueuedTime);
const unique = <T>(values: readonly T[]) => [...new Set(values)];
const isoOf = (epochMs: number) => new Date(epochMs).toISOString();

/*
 * The hot path's three statements (send, receive, settle) are constant text run on the driver,
 * prepared on PostgreSQL: one round trip each, no query building per batch. Parameters are JSON
 * arrays of the batch's requests and ISO times.
 */

/**
 * Sends: lock the devices' rows in id order, which returns their current counts; rank each
 * device's messages in send order and keep what fits; number the kept ones from the sequence in
 * send order (volatile target lists are evaluated after ORDER BY); insert them and raise the
 * counts. $1 the messages, $2 the queue depth. Answers (index, sequence number, generationId)
 * per kept message.
 */
const ENQUEUE = statementText(sql`
  with input as (
    select * from json_to_recordset(${sql.raw('$1')}::json)
      as x(i integer, d text, mid text, ack text, et timestamptz, xt timestamptz, dc integer, sp jsonb, ap jsonb, b text)
  ), locked as materialized (${lockDevicesInOrder(sql`select d from input`)}
  ), kept as materialized (
    select ranked.*, nextval(pg_get_serial_sequence('c2d_messages', 'sequence_number')) as sequence_number
    from (
      select input.*, locked.generation_id, locked.queued, row_number() over (partition by input.d order by input.i) as rank
      from input join locked on locked.device_id = input.d
    ) ranked
    where ranked.rank <= ${sql.raw('$2')}::integer - ranked.queued
    order by ranked.i
  ), inserted as (
    insert into ${c2dMessages} (sequence_number, device_id, device_generation_id, message_id, ack, enqueued_time,
      expiry_time, delivery_count, system_properties, application_properties, body)
    overriding system value
    select sequence_number, d, generation_id, mid, ack, et, xt, dc, sp, ap, decode(b, 'base64') from kept
  ), counted as (
    update ${devices} set cloud_to_device_message_count = cloud_to_device_message_count + added.n
    from (select d, count(*)::integer as n from kept group by d) added
    where device_id = added.d
  )
  select i, sequence_number, generation_id from kept`);

/**
 * Receives: each device's oldest available messages, up to its count, locked until $2 and their
 * delivery counted; $1 the requests, $3 now. SKIP LOCKED keeps a concurrent receiver of the same
 * device off these rows. Answers one JSON text (null when none), a `LockedRow` per message in
 * sequence order.
 *
 * The expiry test is written `(…) is true`, which no index serves, so each device's messages are
 * walked in its (device, sequence) index. With a plain `>`, a plan made on stale statistics ANDed
 * in the expiry index, every message of every device for each device asked for (seen at 130,000
 * entries a lookup and 350 ms a statement, and kept once the statement was prepared).
 */
const LOCK_AVAILABLE = statementText(sql`
  with locked as (
    update ${c2dMessages} m
    set delivery_count = m.delivery_count + 1, lock_token = gen_random_uuid()::text, locked_until = ${sql.raw('$2')}::timestamptz
    where m.sequence_number in (
      select available.sequence_number
      from json_to_recordset(${sql.raw('$1')}::json) as wanted(d text, n integer)
      cross join lateral (
        select sequence_number from ${c2dMessages}
        where device_id = wanted.d and (expiry_time > ${sql.raw('$3')}::timestamptz) is true
          and (locked_until is null or locked_until <= ${sql.raw('$3')}::timestamptz)
        order by sequence_number limit wanted.n
        for update skip locked
      ) available)
    returning m.*
  )
  select json_agg(json_build_array(sequence_number, message_id, device_id, device_generation_id, encode(body, 'base64'),
    system_properties, application_properties, ack, round(date_part('epoch', enqueued_time) * 1000),
    round(date_part('epoch', expiry_time) * 1000), delivery_count, lock_token, round(date_part('epoch', locked_until) * 1000))
    order by sequence_number)::text
  from locked`);

/** A locked message as LOCK_AVAILABLE's JSON holds it (times in epoch ms, the body in base64). */
type LockedRow = [
  sequenceNumber: number,
  messageId: string,
  deviceId: string,
  deviceGenerationId: string,
  body: string,
  systemProperties: CloudToDeviceMessage['systemProperties'],
  applicationProperties: Record<string, string>,
  ack: CloudToDeviceMessage['ack'],
  enqueuedTime: number,
  expiryTime: number,
  deliveryCount: number,
  lockToken: string,
  lockedUntil: number,
];

function lockedMessageOf(row: LockedRow): LockedCloudToDeviceMessage {
  return {
    sequenceNumber: row[0],
    messageId: row[1],
    deviceId: row[2],
    deviceGenerationId: row[3],
    body: bytesOfBase64(row[4]),
    systemProperties: row[5],
    applicationProperties: row[6],
    ack: row[7],
    enqueuedTime: row[8],
    expiryTime: row[9],
    deliveryCount: row[10],
    lockToken: row[11],
    lockedUntil: row[12],
  };
}

/**
 * Settlements that remove: lock the devices (in id order, as ENQUEUE; the count in the InitPlan
 * makes every device lock come before the first message is deleted, the order whole-queue
 * transactions lock in), remove the live locked messages, record their feedback, lower the counts.
 * $1 the locks, $2 now, $3–$5 the feedback's status, description and time, $6 the ack modes that
 * earn feedback (comma-separated). Answers the removed messages.
 */
const REMOVE_LOCKED = statementText(sql`
  with wanted as (
    select * from json_to_recordset(${sql.raw('$1')}::json) as x(d text, t text)
  ), locked as materialized (${lockDevicesInOrder(sql`select d from wanted`)}
  ), removed as (
    delete from ${c2dMessages} m using wanted
    where (select count(*) from locked) > 0
      and m.lock_token = wanted.t and m.device_id = wanted.d and m.locked_until > ${sql.raw('$2')}::timestamptz
    returning m.sequence_number, m.message_id, m.device_id, m.ack, m.delivery_count, m.lock_token, m.device_generation_id
  ), feedback as (
    insert into ${c2dFeedback} (original_message_id, device_id, device_generation_id, status_code, description, enqueued_time)
    select message_id, device_id, device_generation_id, ${sql.raw('$3')}, ${sql.raw('$4')}, ${sql.raw('$5')}::timestamptz
    from removed where ack = any(string_to_array(${sql.raw('$6')}, ','))
  ), counted as (
    update ${devices} d set cloud_to_device_message_count = d.cloud_to_device_message_count - gone.n
    from (select device_id, count(*)::integer as n from removed group by device_id) gone
    where d.device_id = gone.device_id
  )
  select sequence_number, message_id, device_id, ack, delivery_count, lock_token from removed`);

/** Locks these devices' rows (device-locks.ts) and answers the registered ones with their generationId and queue size. */
async function lockDevices(tx: HubDatabase, deviceIds: readonly string[]) {
  const rows = rowsOf<{ device_id: string; generation_id: string; queued: number }>(
    await tx.execute(lockDevicesInOrder(sql`${sql.join(unique(deviceIds).map((id) => sql`${id}`), sql`, `)}`)),
  );
  return rows.map((row) => ({ deviceId: row.device_id, generationId: row.generation_id, count: row.queued }));
}

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

  async expired(now: number): Promise<CloudToDeviceMessage[]> {
    const rows = await this.tx
      .select()
      .from(c2dMessages)
      .where(and(this.#own(), lte(c2dMessages.expiryTime, now)))
      .orderBy(asc(c2dMessages.sequenceNumber));
    return rows.map(messageOf);
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
  readonly #run: DriverStatement;

  constructor(private readonly db: HubDatabase) {
    this.#run = driverStatements(db);
  }

  /**
   * One statement (ENQUEUE), so device rows stay locked only until its commit (a transaction of
   * several round trips made sends and settlements queue behind it).
   */
  async enqueue(messages: readonly PreparedCloudToDeviceMessage[], maxDepth: number): Promise<EnqueueResult[]> {
    if (messages.length === 0) return [];
    const input = JSON.stringify(
      messages.map((message, index) => ({
        i: index,
        d: message.deviceId,
        mid: message.messageId,
        ack: message.ack,
        et: new Date(message.enqueuedTime).toISOString(),
        xt: new Date(message.expiryTime).toISOString(),
        dc: message.deliveryCount,
        sp: message.systemProperties,
        ap: message.applicationProperties,
        b: base64Of(message.body),
      })),
    );
    const rows = (await this.#run(ENQUEUE, [input, maxDepth], { prepare: true })) as [number, number | string, string][];
    const kept = new Map(rows.map(([index, sequenceNumber, generationId]) => [index, { sequenceNumber, generationId }]));
    return messages.map((_, index): EnqueueResult => {
      const row = kept.get(index);
      return row ? { isQueued: true, sequenceNumber: Number(row.sequenceNumber), deviceGenerationId: row.generationId } : { isQueued: false };
    });
  }

  /** One statement (LOCK_AVAILABLE). */
  async lockAvailable(requests: readonly LockRequest[], now: number, lockedUntil: number): Promise<LockedCloudToDeviceMessage[]> {
    if (requests.length === 0) return [];
    const wanted = JSON.stringify(requests.map((request) => ({ d: request.deviceId, n: request.max })));
    const [[json]] = (await this.#run(LOCK_AVAILABLE, [wanted, isoOf(lockedUntil), isoOf(now)], { prepare: true })) as [[string | null]];
    return json === null ? [] : (JSON.parse(json) as LockedRow[]).map(lockedMessageOf);
  }

  /** One statement (REMOVE_LOCKED). */
  async removeLocked(locks: readonly DeviceLock[], now: number, feedback: FeedbackOutcome): Promise<RemovedMessage[]> {
    if (locks.length === 0) return [];
    const wanted = JSON.stringify(locks.map((lock) => ({ d: lock.deviceId, t: lock.lockToken })));
    const params = [wanted, isoOf(now), feedback.statusCode, feedback.description, isoOf(feedback.enqueuedTimeUtc), feedback.acks.join(',')];
    const rows = (await this.#run(REMOVE_LOCKED, params, { prepare: true })) as [number | string, string, string, RemovedMessage['ack'], number, string][];
    return rows.map(([sequenceNumber, messageId, deviceId, ack, deliveryCount, lockToken]) => ({
      sequenceNumber: Number(sequenceNumber),
      messageId,
      deviceId,
      ack,
      deliveryCount,
      lockToken,
    }));
  }

  /** One transaction, the device locked first like every change to its queue. */
  async releaseLocked(deviceId: string, lockTokens: readonly string[] | undefined, now: number): Promise<string[]> {
    if (lockTokens?.length === 0) return [];
    return this.db.transaction(async (transaction) => {
      const tx = transaction as unknown as HubDatabase;
      await lockDevices(tx, [deviceId]);
      const which = lockTokens ? sql`lock_token in ${unique(lockTokens)}` : sql`lock_token is not null`;
      const result = await tx.execute(sql`
        update ${c2dMessages} m set lock_token = null, locked_until = null
        from (
          select sequence_number, lock_token from ${c2dMessages}
          where device_id = ${deviceId} and ${which} and locked_until > ${timeParam(now)}::timestamptz
        ) locked
        where m.sequence_number = locked.sequence_number
        returning locked.lock_token`);
      return rowsOf<{ lock_token: string }>(result).map((row) => row.lock_token);
    });
  }

  async hasDevice(deviceId: string): Promise<boolean> {
    const rows = await this.db.select({ deviceId: devices.deviceId }).from(devices).where(eq(devices.deviceId, deviceId));
    return rows.length === 1;
  }

  async withDeviceQueue<T>(deviceId: string, work: (queue: C2dDeviceQueue) => Promise<T>): Promise<DeviceQueueResult<T>> {
    return this.db.transaction(async (transaction): Promise<DeviceQueueResult<T>> => {
      const tx = transaction as unknown as HubDatabase;
      const [device] = await lockDevices(tx, [deviceId]);
      if (!device) return { isDeviceFound: false };
      const result = await work(new DrizzleDeviceQueue(tx, deviceId, device.generationId));
      // Recounted rather than adjusted, so whole-queue work also repairs the figure; written only
      // when it changed, so reads (peek) leave the row alone.
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
