/**
 * EventStore on drizzle. Appends are the hot path: a whole batch goes as ONE statement with two
 * text parameters (the metadata as JSON, the bodies as base64), which is driver-neutral (PGlite and
 * postgres.js bind text alike), has no 65,535-parameter ceiling, and as a single statement is
 * atomic without a BEGIN/COMMIT round trip. Reading pages of events is event-reads.ts's; the
 * other row ↔ record mapping lives here.
 * @module
 */

import { asc, eq, ne, sql } from 'drizzle-orm';
import {
  type Checkpoint,
  DEFAULT_CONSUMER_GROUP,
  type EventPosition,
  type EventRecord,
  type EventStore,
  type PartitionHead,
} from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { checkpoints, consumerGroups } from '../schema/index.ts';
import { anchorAfterTime, anchorBefore } from './event-anchors.ts';
import { eventReads, storedSystemProperties } from './event-reads.ts';
import { base64Of, type DriverStatement, driverStatements, rowsOf } from './raw-sql.ts';

/**
 * One batch as the two parameters of APPEND: the events' metadata as a JSON array of arrays (no
 * keys to lex), and their bodies end to end as one base64 text, each event naming its slice.
 * Bodies stay out of the JSON because PostgreSQL lexes JSON strings a character at a time:
 * inside it they cost the database more than the rest of the insert. Text rather than a bytea
 * parameter because PGlite encodes a Uint8Array parameter in JavaScript a byte at a time, and
 * postgres.js sends one as hex, half again as long as base64.
 */
function batchParameters(batch: EventRecord[]): [string, string] {
  let bodyOffset = 0;
  const rows = batch.map((event) => {
    const row = [
      event.partitionId,
      event.sequenceNumber,
      event.offset,
      event.enqueuedTime,
      event.deviceId,
      event.moduleId,
      event.messageSource,
      storedSystemProperties(event.systemProperties),
      event.applicationProperties,
      bodyOffset + 1,
      event.body.byteLength,
    ];
    bodyOffset += event.body.byteLength;
    return row;
  });
  return [JSON.stringify(rows), base64Of(Buffer.concat(batch.map((event) => event.body), bodyOffset))];
}

/**
 * One statement for a whole batch, constant text (so prepared on PostgreSQL). The metadata is
 * parsed once, as jsonb, and each field read from it by position; `json_to_recordset` cost the
 * database about a fifth more per event (a hash table per row, and a second parse of each
 * property object). The bodies are decoded once, in a materialized CTE: written in the select
 * list, a generic plan would decode the whole parameter again for every row.
 */
const APPEND = `
  with bodies as materialized (select decode($2, 'base64') as bytes)
  insert into events (partition_id, sequence_number, "offset", enqueued_time, device_id, module_id,
                      message_source, system_properties, application_properties, body)
  select (e->>0)::smallint, (e->>1)::bigint, (e->>2)::bigint, 'epoch'::timestamptz + (e->>3)::bigint * interval '1 millisecond',
         e->>4, e->>5, e->>6, e->7, e->8, substring(bodies.bytes from (e->>9)::int for (e->>10)::int)
  from bodies, jsonb_array_elements($1::text::jsonb) e`;

/** The partitions that hold events, found by a loose index scan of the primary key: CTE `p(id)`, ending in a null. */
const PARTITIONS = sql`p(id) as (
  select min(partition_id) from events
  union all
  select (select min(partition_id) from events where partition_id > p.id) from p where p.id is not null
)`;

interface HeadRow {
  partition_id: number;
  first_sequence_number: number | null;
  last_sequence_number: number | null;
  last_offset: number | null;
  next_offset: number | null;
  last_enqueued_time: number | null;
  kept_sequence_number: number | null;
  kept_offset: number | null;
  kept_next_offset: number | null;
  kept_enqueued_time: number | null;
}

function headOf(row: HeadRow): PartitionHead {
  // The newest retained event wins; the row prune left behind stands in when none is retained.
  const isEmpty = row.first_sequence_number === null;
  const last = isEmpty
    ? { seq: row.kept_sequence_number, offset: row.kept_offset, next: row.kept_next_offset, time: row.kept_enqueued_time }
    : { seq: row.last_sequence_number, offset: row.last_offset, next: row.next_offset, time: row.last_enqueued_time };
  return {
    partitionId: row.partition_id,
    beginningSequenceNumber: row.first_sequence_number ?? -1,
    lastEnqueuedSequenceNumber: last.seq ?? -1,
    lastEnqueuedOffset: last.offset ?? -1,
    lastEnqueuedTime: last.time,
    isEmpty,
    nextOffset: last.next ?? 0,
  };
}

export class DrizzleEventStore implements EventStore {
  readonly #read: ReturnType<typeof eventReads>;
  readonly #run: DriverStatement;

  constructor(private readonly db: HubDatabase) {
    this.#read = eventReads(db);
    this.#run = driverStatements(db);
  }

  async append(batch: EventRecord[]): Promise<void> {
    if (batch.length === 0) return;
    await this.#run(APPEND, batchParameters(batch), { prepare: true });
  }

  async read(partitionId: number, from: EventPosition, maxCount: number): Promise<EventRecord[]> {
    return from === 'end' ? [] : this.#read(partitionId, from, maxCount);
  }

  async partitionHeads(partitionCount: number): Promise<PartitionHead[]> {
    const result = await this.db.execute(sql`
      select g.id::int as partition_id,
             f.sequence_number::float8 as first_sequence_number,
             l.sequence_number::float8 as last_sequence_number,
             l."offset"::float8 as last_offset,
             l.next_offset::float8 as next_offset,
             round(extract(epoch from l.enqueued_time) * 1000)::float8 as last_enqueued_time,
             h.last_sequence_number::float8 as kept_sequence_number,
             h.last_offset::float8 as kept_offset,
             h.next_offset::float8 as kept_next_offset,
             round(extract(epoch from h.last_enqueued_time) * 1000)::float8 as kept_enqueued_time
      from generate_series(0, ${partitionCount - 1}::int) as g(id)
      left join lateral (
        select sequence_number from events e where e.partition_id = g.id order by sequence_number asc limit 1
      ) f on true
      left join lateral (
        select sequence_number, "offset", enqueued_time, "offset" + greatest(octet_length(body), 1) as next_offset
        from events e where e.partition_id = g.id order by sequence_number desc limit 1
      ) l on true
      left join event_partition_heads h on h.partition_id = g.id
      order by g.id`);
    return rowsOf<HeadRow>(result).map(headOf);
  }

  async countSince(sinceTime: number): Promise<number> {
    const since = sql`${new Date(sinceTime).toISOString()}::timestamptz`;
    const [row] = rowsOf<{ total: number }>(
      await this.db.execute(sql`
        with recursive ${PARTITIONS}
        select coalesce(sum((
          select count(*) from events e
          where e.partition_id = p.id and e.sequence_number >= ${anchorBefore(sql`p.id`, 'enqueued_time', since)} and e.enqueued_time >= ${since}
        )), 0)::float8 as total
        from p where p.id is not null`),
    );
    return row?.total ?? 0;
  }

  /**
   * Per partition: first keep the newest event's position in event_partition_heads, then delete
   * the old rows, which lie before the first anchor enqueued at or after the cut.
   */
  async pruneBefore(beforeTime: number): Promise<number> {
    const before = sql`${new Date(beforeTime).toISOString()}::timestamptz`;
    return this.db.transaction(async (tx) => {
      const partitions = rowsOf<{ id: number }>(await tx.execute(sql`with recursive ${PARTITIONS} select id::int as id from p where id is not null`));
      let deleted = 0;
      for (const { id } of partitions) {
        const partition = sql`${id}::smallint`;
        await tx.execute(sql`
          insert into event_partition_heads (partition_id, last_sequence_number, last_offset, next_offset, last_enqueued_time)
          select partition_id, sequence_number, "offset", "offset" + greatest(octet_length(body), 1), enqueued_time
          from events
          where partition_id = ${partition}
            and (select enqueued_time from events where partition_id = ${partition} order by sequence_number limit 1) < ${before}
          order by sequence_number desc limit 1
          on conflict (partition_id) do update set
            last_sequence_number = excluded.last_sequence_number, last_offset = excluded.last_offset,
            next_offset = excluded.next_offset, last_enqueued_time = excluded.last_enqueued_time`);
        const [row] = rowsOf<{ count: number }>(
          await tx.execute(sql`
            with gone as (
              delete from events
              where partition_id = ${partition} and sequence_number < ${anchorAfterTime(partition, before)} and enqueued_time < ${before}
              returning 1
            )
            select count(*)::int as count from gone`),
        );
        deleted += row?.count ?? 0;
      }
      return deleted;
    });
  }

  async listConsumerGroups(): Promise<string[]> {
    const rows = await this.db
      .select({ name: consumerGroups.name })
      .from(consumerGroups)
      .where(ne(consumerGroups.name, DEFAULT_CONSUMER_GROUP))
      .orderBy(asc(consumerGroups.name));
    return [DEFAULT_CONSUMER_GROUP, ...rows.map((row) => row.name)];
  }

  async createConsumerGroup(name: string): Promise<boolean> {
    if (name === DEFAULT_CONSUMER_GROUP) return false;
    const inserted = await this.db
      .insert(consumerGroups)
      .values({ name })
      .onConflictDoNothing()
      .returning({ name: consumerGroups.name });
    return inserted.length === 1;
  }

  async deleteConsumerGroup(name: string): Promise<boolean> {
    if (name === DEFAULT_CONSUMER_GROUP) return false;
    const deleted = await this.db
      .delete(consumerGroups)
      .where(eq(consumerGroups.name, name))
      .returning({ name: consumerGroups.name });
    return deleted.length === 1;
  }

  async getCheckpoints(consumerGroup: string): Promise<Checkpoint[]> {
    return this.db
      .select({
        consumerGroup: checkpoints.consumerGroup,
        partitionId: checkpoints.partitionId,
        sequenceNumber: checkpoints.sequenceNumber,
        offset: checkpoints.offset,
        updatedAt: checkpoints.updatedAt,
      })
      .from(checkpoints)
      .where(eq(checkpoints.consumerGroup, consumerGroup))
      .orderBy(asc(checkpoints.partitionId));
  }

  async setCheckpoint(checkpoint: Checkpoint): Promise<boolean> {
    const { consumerGroup, partitionId, sequenceNumber, offset, updatedAt } = checkpoint;
    if (consumerGroup === DEFAULT_CONSUMER_GROUP) {
      // $Default exists implicitly; its row appears the first time something refers to it.
      await this.db.insert(consumerGroups).values({ name: DEFAULT_CONSUMER_GROUP }).onConflictDoNothing();
    }
    const result = await this.db.execute(sql`
      insert into checkpoints (consumer_group, partition_id, sequence_number, "offset", updated_at)
      select name, ${partitionId}::smallint, ${sequenceNumber}::bigint, ${offset}::bigint, ${new Date(updatedAt).toISOString()}::timestamptz
      from consumer_groups where name = ${consumerGroup}
      on conflict (consumer_group, partition_id) do update set
        sequence_number = excluded.sequence_number, "offset" = excluded."offset", updated_at = excluded.updated_at
      returning partition_id`);
    return rowsOf(result).length === 1;
  }
}
