/**
 * The event stream's REST shapes: events, partition properties and checkpoints as JSON (names
 * follow the Event Hubs SDK: `partitionId` and `offset` are strings, times are ISO-8601 UTC), and
 * the read position and checkpoint bodies parsed from requests. Rules stay in core.
 * @module
 */

import {
  argumentInvalid,
  type Checkpoint,
  type EventPosition,
  type EventRecord,
  isoTime,
  type PartitionProperties,
  type SystemProperties,
} from '@tributary/core';
import { objectAt } from './fields.ts';

export interface EventJson {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: string;
  deviceId: string;
  moduleId: string | null;
  systemProperties: SystemProperties;
  properties: Record<string, string>;
  /** The body bytes, base64. */
  body: string;
  /** The body as text, present only when it is valid UTF-8. */
  bodyText?: string;
}

export interface PartitionJson {
  partitionId: string;
  beginningSequenceNumber: number;
  lastEnqueuedSequenceNumber: number;
  lastEnqueuedOffset: string;
  lastEnqueuedTimeUtc: string | null;
  isEmpty: boolean;
}

export interface CheckpointJson {
  consumerGroup: string;
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  updatedTimeUtc: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8Text(body: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

export function eventJson(event: EventRecord): EventJson {
  const json: EventJson = {
    partitionId: String(event.partitionId),
    sequenceNumber: event.sequenceNumber,
    offset: String(event.offset),
    enqueuedTimeUtc: isoTime(event.enqueuedTime),
    deviceId: event.deviceId,
    moduleId: event.moduleId,
    systemProperties: event.systemProperties,
    properties: event.applicationProperties,
    body: Buffer.from(event.body.buffer, event.body.byteOffset, event.body.byteLength).toString('base64'),
  };
  const text = utf8Text(event.body);
  if (text !== undefined) json.bodyText = text;
  return json;
}

export function partitionJson(partition: PartitionProperties): PartitionJson {
  return {
    partitionId: String(partition.partitionId),
    beginningSequenceNumber: partition.beginningSequenceNumber,
    lastEnqueuedSequenceNumber: partition.lastEnqueuedSequenceNumber,
    lastEnqueuedOffset: String(partition.lastEnqueuedOffset),
    lastEnqueuedTimeUtc: partition.lastEnqueuedTime === null ? null : new Date(partition.lastEnqueuedTime).toISOString(),
    isEmpty: partition.isEmpty,
  };
}

export function checkpointJson(checkpoint: Checkpoint): CheckpointJson {
  return {
    consumerGroup: checkpoint.consumerGroup,
    partitionId: String(checkpoint.partitionId),
    sequenceNumber: checkpoint.sequenceNumber,
    offset: String(checkpoint.offset),
    updatedTimeUtc: new Date(checkpoint.updatedAt).toISOString(),
  };
}

const NON_NEGATIVE_INTEGER = /^\d{1,15}$/;

/** A non-negative safe integer from query text or a JSON number/string; ArgumentInvalid naming `name`. */
export function nonNegativeInteger(value: unknown, name: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !NON_NEGATIVE_INTEGER.test(text)) {
    throw argumentInvalid(`${name} must be a non-negative integer, got '${String(value).slice(0, 40)}'`);
  }
  return Number(text);
}

const ISO_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i;

/** The query parameters that choose where a read starts; at most one may be given. */
export const POSITION_PARAMETERS = ['fromSequenceNumber', 'fromOffset', 'fromEnqueuedTime', 'from'] as const;

/**
 * The read position from the query: `fromSequenceNumber=N`, `fromOffset=O`,
 * `fromEnqueuedTime=<ISO-8601>`, or `from=start|end`; none means `start`. Each bound is inclusive.
 */
export function parsePosition(query: (name: string) => string | undefined): EventPosition {
  const given = POSITION_PARAMETERS.filter((name) => query(name) !== undefined);
  if (given.length > 1) throw argumentInvalid(`Give only one of ${given.join(', ')}`);
  const [name] = given;
  if (name === undefined) return 'start';
  const value = query(name)!;
  if (name === 'fromSequenceNumber') return { sequenceNumber: nonNegativeInteger(value, name) };
  if (name === 'fromOffset') return { offset: nonNegativeInteger(value, name) };
  if (name === 'fromEnqueuedTime') {
    // A zone is required: without one Date.parse would read the server's local time.
    const time = ISO_TIME_WITH_ZONE.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(time)) {
      throw argumentInvalid(`fromEnqueuedTime must be an ISO-8601 time such as 2026-06-01T12:00:00Z, got '${value.slice(0, 40)}'`);
    }
    return { enqueuedTime: time };
  }
  if (value === 'start' || value === 'end') return value;
  throw argumentInvalid(`from must be 'start' or 'end', got '${value.slice(0, 40)}'`);
}

/** `maxCount`: 1 to `max`, default `defaultCount`. */
export function parseMaxCount(text: string | undefined, defaultCount: number, max: number): number {
  if (text === undefined) return defaultCount;
  const count = /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN;
  if (!(count >= 1 && count <= max)) throw argumentInvalid(`maxCount must be an integer from 1 to ${max}, got '${text.slice(0, 40)}'`);
  return count;
}

/** A checkpoint body `{sequenceNumber, offset}` (offset as a string, as Event Hubs writes it, or a number). */
export function parseCheckpointBody(body: unknown, consumerGroup: string, partitionId: number, updatedAt: number): Checkpoint {
  const fields = objectAt(body, 'The request body');
  return {
    consumerGroup,
    partitionId,
    sequenceNumber: nonNegativeInteger(fields.sequenceNumber, 'sequenceNumber'),
    offset: nonNegativeInteger(fields.offset, 'offset'),
    updatedAt,
  };
}

/** The live feed's filter from `deviceId` and `moduleId` query values (empty or absent: any). */
export function liveFeedFilter(deviceId: string | null | undefined, moduleId: string | null | undefined): (event: EventRecord) => boolean {
  const device = deviceId || undefined;
  const module = moduleId || undefined;
  return (event) => (device === undefined || event.deviceId === device) && (module === undefined || event.moduleId === module);
}
