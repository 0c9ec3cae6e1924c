/**
 * Finding events by offset or enqueued time through the anchors (`EVENT_ANCHOR_EVERY` in
 * schema/event-stream.ts), the only events those two columns are indexed for. Both columns grow
 * with the sequence number within a partition, so the anchor nearest a position bounds where
 * its events are, and the primary key (partition, sequence number) walks the rest.
 * @module
 */

import { type SQL, sql } from 'drizzle-orm';
import { EVENT_ANCHOR_EVERY } from '../schema/event-stream.ts';

export type AnchoredColumn = 'offset' | 'enqueued_time';

/** Written exactly as the partial indexes' predicate, so the planner uses them. */
const IS_ANCHOR = sql.raw(`a.sequence_number % ${EVENT_ANCHOR_EVERY} = 0`);

/**
 * The sequence number at or after which every event of `partition` with `column` ≥ `bound`
 * lies: the last anchor before the bound, else 0. An offset belongs to one event only, so the
 * anchor at the bound itself qualifies; an enqueued time may be shared by the events before it.
 */
export function anchorBefore(partition: SQL, column: AnchoredColumn, bound: SQL): SQL {
  const at = sql.identifier(column);
  const before = column === 'offset' ? sql.raw('<=') : sql.raw('<');
  return sql`coalesce((select a.sequence_number from events a
    where a.partition_id = ${partition} and a.${at} ${before} ${bound} and ${IS_ANCHOR}
    order by a.${at} desc limit 1), 0)`;
}

/**
 * The sequence number before which every event of `partition` enqueued before `bound` lies: the
 * first anchor enqueued at or after it, else past every event.
 */
export function anchorAfterTime(partition: SQL, bound: SQL): SQL {
  return sql`coalesce((select a.sequence_number from events a
    where a.partition_id = ${partition} and a.enqueued_time >= ${bound} and ${IS_ANCHOR}
    order by a.enqueued_time limit 1), ${Number.MAX_SAFE_INTEGER}::bigint)`;
}
