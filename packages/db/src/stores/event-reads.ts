/**
 * Reading pages of events, the hot path of every event stream reader (REST pages, Event Hubs
 * links), as constant SQL run on the driver itself rather than through drizzle. A page comes back
 * as ONE row of two texts (the metadata as one JSON array per event, the bodies in base64), which
 * costs one native `JSON.parse` and one base64 decode instead of the drivers' per-row, per-column
 * decoding (postgres.js turns every column into a string and bytea from hex; PGlite decodes
 * bytea one byte at a time) and drizzle's per-field mapping. Measured on 1,000-event pages, the
 * hub spent about a third less CPU per event than reading the same columns row by row; moving
 * the bodies out of the JSON saved another quarter, and PostgreSQL a tenth. The read by
 * sequence number (every page after a reader's first) is a prepared statement on PostgreSQL.
 * Appends (event-store.ts) are prepared driver statements too; every other query stays drizzle's.
 * @module
 */

import { type EventPosition, type EventRecord, FIELD_STAMP_NAMES, type MessageSource, type SystemProperties, withFieldStamps } from '@tributary/core';
import { sql } from 'drizzle-orm';
import type { HubDatabase } from '../database.ts';
import { type AnchoredColumn, anchorBefore } from './event-anchors.ts';
import { bytesOfBase64, driverStatements, statementText } from './raw-sql.ts';

/**
 * The system properties as the events table keeps them: without the stamps its columns hold
 * (`FIELD_STAMP_NAMES`), which are about half of a telemetry event's property text and otherwise
 * cost the database a JSON parse on every append and every read. Reads put them back with
 * `withFieldStamps`.
 */
export function storedSystemProperties(properties: SystemProperties): SystemProperties {
  const all = properties as Record<string, unknown>;
  const stored: Record<string, unknown> = {};
  for (const name in all) if (!FIELD_STAMP_NAMES.has(name)) stored[name] = all[name];
  return stored as SystemProperties;
}

/** A start position a read can have (`'end'` reads nothing and never gets here). */
export type ReadPosition = Exclude<EventPosition, 'end'>;

/** An event as the page JSON holds it. */
type EventRow = [
  sequenceNumber: number,
  offset: number,
  enqueuedTime: number,
  deviceId: string,
  moduleId: string | null,
  messageSource: MessageSource,
  systemProperties: SystemProperties,
  applicationProperties: Record<string, string>,
  /** The body's length: bodies come after the JSON, end to end. */
  bodyBytes: number,
];

/**
 * The page of `where` ($1 partition, $2 position, $3 count) as two texts: the events' metadata as
 * JSON, and their bodies end to end in one base64 text, as appends send them (event-store.ts).
 * The inner query reads the primary key in order (also under a generic plan). Bodies stay out of
 * the JSON: as strings in it they were more than half its text, so of what PostgreSQL escaped and
 * the hub parsed, and were decoded one by one; now they decode natively in one piece, and each
 * body is a view of it. Times are epoch ms (the
 * column has millisecond precision, so the float8 is exact).
 */
function pageSql(where: string): string {
  return `select json_agg(json_build_array(e.sequence_number, e."offset", round(date_part('epoch', e.enqueued_time) * 1000),
    e.device_id, e.module_id, e.message_source, e.system_properties, e.application_properties, octet_length(e.body))
    order by e.sequence_number)::text, encode(string_agg(e.body, ''::bytea order by e.sequence_number), 'base64')
  from (select * from events where partition_id = $1 and ${where} order by partition_id, sequence_number limit $3) e`;
}

/** A read from an offset or a time: from the anchor before it, the events at or past it. */
function anchoredPageSql(column: AnchoredColumn, bound: string): string {
  const start = statementText(anchorBefore(sql.raw('$1'), column, sql.raw(bound)));
  return pageSql(`sequence_number >= ${start} and "${column}" >= ${bound}`);
}

const FROM_SEQUENCE = pageSql('sequence_number >= $2');
const FROM_OFFSET = anchoredPageSql('offset', '$2');
const FROM_TIME = anchoredPageSql('enqueued_time', '$2::timestamptz');

/**
 * Page reads on one database. Only the read by sequence number is prepared: the offset and time
 * reads start a reader, and are planned for their actual values.
 */
export function eventReads(db: HubDatabase): (partitionId: number, from: ReadPosition, maxCount: number) => Promise<EventRecord[]> {
  const run = driverStatements(db);
  const page = async (text: string, params: Array<number | string>, prepare: boolean) =>
    ((await run(text, params, { prepare }))[0] ?? [null, null]) as [string | null, string | null];
  return async (partitionId, from, maxCount) => {
    const [json, bodiesBase64] =
      from === 'start' || 'sequenceNumber' in from
        ? await page(FROM_SEQUENCE, [partitionId, from === 'start' ? 0 : from.sequenceNumber, maxCount], true)
        : 'offset' in from
          ? await page(FROM_OFFSET, [partitionId, from.offset, maxCount], false)
          : await page(FROM_TIME, [partitionId, new Date(from.enqueuedTime).toISOString(), maxCount], false);
    if (json === null) return [];
    const bodies = bytesOfBase64(bodiesBase64 ?? '');
    let at = 0;
    return (JSON.parse(json) as EventRow[]).map((row) => {
      const event = eventOf(partitionId, row, bodies.subarray(at, at + row[8]));
      at += row[8];
      return event;
    });
  };
}

function eventOf(partitionId: number, row: EventRow, body: Uint8Array): EventRecord {
  const [sequenceNumber, offset, enqueuedTime, deviceId, moduleId, messageSource] = row;
  return {
    partitionId,
    sequenceNumber,
    offset,
    enqueuedTime,
    deviceId,
    moduleId,
    messageSource,
    systemProperties: withFieldStamps(row[6], { enqueuedTime, deviceId, moduleId, messageSource }),
    applicationProperties: row[7],
    body,
  };
}
