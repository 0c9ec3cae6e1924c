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
  /** Byte position of the event in its partition (sum of earlier body sizes), starting at 0. */
  offset: number;
  /** Epoch milliseconds. */
  enqueuedTime: number;
  deviceId: string;
  moduleId: string | null;
  messageSource: MessageSource;
  systemProperties: SystemProperties;
  applicationProperties: Record<string, string>;
  body: Uint8Array;
}

/** Where to start reading a partition; each bound is inclusive. */
export type EventPosition =
  | { sequenceNumber: number }
  | { offset: number }
  | { enqueuedTime: number }
  | 'start'
  | 'end';

export interface PartitionProperties {
  partitionId: number;
  /** Sequence number of the oldest retained event (-1 when empty). */
  beginningSequenceNumber: number;
  lastEnqueuedSequenceNumber: number;
  lastEnqueuedOffset: number;
  lastEnqueuedTime: number | null;
  isEmpty: boolean;
}

export interface Checkpoint {
  consumerGroup: string;
  partitionId: number;
  sequenceNumber: number;
  offset: number;
  updatedAt: number;
}

export const DEFAULT_CONSUMER_GROUP = '$Default';

export interface EventStore {
  /** Appends events in one transaction; all land or none. Positions are already assigned. */
  append(events: EventRecord[]): Promise<void>;
  /** Events of one partition from `from` on, in sequence order, at most `maxCount`. */
  read(partitionId: number, from: EventPosition, maxCount: number): Promise<EventRecord[]>;
  /** The last sequence number and next offset of each partition, to resume numbering after a restart. */
  partitionHeads(partitionCount: number): Promise<PartitionProperties[]>;
  /** Deletes events enqueued before `beforeTime`; returns how many. */
  pruneBefore(beforeTime: number): Promise<number>;

  listConsumerGroups(): Promise<string[]>;
  /** False when it already exists. */
  createConsumerGroup(name: string): Promise<boolean>;
  /** Deletes it with its checkpoints; false when missing. */
  deleteConsumerGroup(name: string): Promise<boolean>;
  getCheckpoints(consumerGroup: string): Promise<Checkpoint[]>;
  setCheckpoint(checkpoint: Checkpoint): Promise<void>;
}
