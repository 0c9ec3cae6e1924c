/**
 * The built-in event stream (DESIGN.md §3): a partitioned, append-only log of device messages and
 * hub events. Each event gets a per-partition sequence number, a byte offset and an enqueued time.
 * This file defines the records and the store port; the pipeline (group commit) and readers
 * build on it.
 * @module
 */

import type { MessageSource, SystemProperties } from './message.ts';

/** An event as appended: the pipeline assigns partition, sequence number, offset and time. */
export interface EventRecord {
  partitionId: number;
  /** Per partition, starting at 0, without gaps. */
  sequenceNumber: number;
  /**
   * Byte position of the event in its partition: the sum of the `eventSize` of every earlier
   * event, starting at 0. Strictly increasing, so "after offset O" is well defined.
   */
  offset: number;
  /** Epoch milliseconds; never decreases within a partition. */
  enqueuedTime: number;
  deviceId: string;
  moduleId: string | null;
  messageSource: MessageSource;
  /**
   * Carries the pipeline's stamps (`stampSystemProperties`). The ones that repeat fields above
   * (`FIELD_STAMP_NAMES`) always equal them, so a store may keep those fields once and stamp
   * them back on read (`withFieldStamps`).
   */
  systemProperties: SystemProperties;
  applicationProperties: Record<string, string>;
  body: Uint8Array;
}

/**
 * How far an event advances its partition's offset: its body length, but at least 1. Event Hubs
 * clients resume *after* an offset (`x-opt-offset > 'O'`), so two events must never share one,
 * even when bodies are empty.
 */
export function eventSize(body: Uint8Array): number {
  return Math.max(1, body.byteLength);
}

/**
 * Where to start reading a partition; each bound is inclusive. `'end'` means "after the last
 * event", so a read from it returns nothing (live readers start there). An exclusive bound is the
 * next integer: after sequence number N is `{sequenceNumber: N + 1}`, after offset O is
 * `{offset: O + 1}`, after time T is `{enqueuedTime: T + 1}`.
 */
export type EventPosition =
  | { sequenceNumber: number }
  | { offset: number }
  | { enqueuedTime: number }
  | 'start'
  | 'end';

/** A partition as Event Hubs describes it (`com.microsoft:partition`). */
export interface PartitionProperties {
  partitionId: number;
  /** Sequence number of the oldest retained event (-1 when empty). */
  beginningSequenceNumber: number;
  /** The last sequence number ever assigned, retained or not (-1 when never used). */
  lastEnqueuedSequenceNumber: number;
  /** Offset of that event (-1 when never used). */
  lastEnqueuedOffset: number;
  /** Enqueued time of that event, epoch ms (null when never used). */
  lastEnqueuedTime: number | null;
  /** True when no event is retained (never used, or everything expired). */
  isEmpty: boolean;
}

/** What the pipeline needs to continue numbering a partition after a restart. */
export interface PartitionHead extends PartitionProperties {
  /** The offset the next event gets (0 when never used). */
  nextOffset: number;
}

export interface Checkpoint {
  consumerGroup: string;
  partitionId: number;
  sequenceNumber: number;
  offset: number;
  /** Epoch milliseconds. */
  updatedAt: number;
}

/** Exists implicitly: always listed, cannot be created or deleted. */
export const DEFAULT_CONSUMER_GROUP = '$Default';

/**
 * Storage of the event stream. Stores are dumb: the pipeline assigns every position; the store
 * keeps them, reads them back and remembers each partition's head even after retention emptied it.
 */
export interface EventStore {
  /** Appends events in one transaction; all land or none. Positions are already assigned. */
  append(events: EventRecord[]): Promise<void>;
  /** Events of one partition from `from` on, in sequence order, at most `maxCount`. */
  read(partitionId: number, from: EventPosition, maxCount: number): Promise<EventRecord[]>;
  /**
   * Partitions `0 … partitionCount - 1`: where they begin and end, and where numbering continues.
   * Survives retention: a partition emptied by `pruneBefore` keeps its last sequence number.
   */
  partitionHeads(partitionCount: number): Promise<PartitionHead[]>;
  /** Deletes events enqueued before `beforeTime` (epoch ms); returns how many. */
  pruneBefore(beforeTime: number): Promise<number>;
  /** How many stored events were enqueued at or after `sinceTime` (epoch ms). */
  countSince(sinceTime: number): Promise<number>;

  /** Every consumer group by name, `$Default` first. */
  listConsumerGroups(): Promise<string[]>;
  /** False when it already exists (always for `$Default`). */
  createConsumerGroup(name: string): Promise<boolean>;
  /** Deletes it with its checkpoints; false when missing (always for `$Default`). */
  deleteConsumerGroup(name: string): Promise<boolean>;
  /** The group's checkpoints by partition; empty for a missing group. */
  getCheckpoints(consumerGroup: string): Promise<Checkpoint[]>;
  /** Inserts or replaces the group's checkpoint for the partition; false when the group does not exist. */
  setCheckpoint(checkpoint: Checkpoint): Promise<boolean>;
}
