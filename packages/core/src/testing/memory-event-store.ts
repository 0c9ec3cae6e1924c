/**
 * An in-memory EventStore for pipeline, session and route tests. It passes the same contract
 * suite as the database store (`event-store-contract.ts`), so it cannot drift from it.
 * @module
 */

import {
  type Checkpoint,
  DEFAULT_CONSUMER_GROUP,
  type EventPosition,
  type EventRecord,
  type EventStore,
  eventSize,
  type PartitionHead,
} from '../telemetry/event-stream.ts';

const copy = (event: EventRecord): EventRecord => ({
  ...event,
  systemProperties: { ...event.systemProperties },
  applicationProperties: { ...event.applicationProperties },
  body: new Uint8Array(event.body),
});

/** What the newest event of a partition leaves behind when retention deletes it. */
interface Floor {
  sequenceNumber: number;
  offset: number;
  nextOffset: number;
  enqueuedTime: number;
}

export class MemoryEventStore implements EventStore {
  /** Per partition, in sequence order. */
  readonly #partitions = new Map<number, EventRecord[]>();
  readonly #keys = new Map<number, Set<number>>();
  readonly #floors = new Map<number, Floor>();
  readonly #groups = new Set<string>();
  readonly #checkpoints = new Map<string, Map<number, Checkpoint>>();

  async append(events: EventRecord[]): Promise<void> {
    // All or nothing, as a transaction would: check every key before storing any.
    const seen = new Set<string>();
    for (const event of events) {
      const key = `${event.partitionId}:${event.sequenceNumber}`;
      if (seen.has(key) || this.#keys.get(event.partitionId)?.has(event.sequenceNumber)) {
        throw new Error(`duplicate key value violates unique constraint: event ${key}`);
      }
      seen.add(key);
    }
    const touched = new Set<EventRecord[]>();
    for (const event of events) {
      const partition = this.#partitions.get(event.partitionId) ?? [];
      const keys = this.#keys.get(event.partitionId) ?? new Set<number>();
      partition.push(copy(event));
      keys.add(event.sequenceNumber);
      this.#partitions.set(event.partitionId, partition);
      this.#keys.set(event.partitionId, keys);
      touched.add(partition);
    }
    for (const partition of touched) partition.sort((a, b) => a.sequenceNumber - b.sequenceNumber);
  }

  async read(partitionId: number, from: EventPosition, maxCount: number): Promise<EventRecord[]> {
    const events = this.#partitions.get(partitionId) ?? [];
    const isWanted = (event: EventRecord): boolean => {
      if (from === 'start') return true;
      if (from === 'end') return false;
      if ('sequenceNumber' in from) return event.sequenceNumber >= from.sequenceNumber;
      if ('offset' in from) return event.offset >= from.offset;
      return event.enqueuedTime >= from.enqueuedTime;
    };
    return events.filter(isWanted).slice(0, maxCount).map(copy);
  }

  async partitionHeads(partitionCount: number): Promise<PartitionHead[]> {
    return Array.from({ length: partitionCount }, (_, partitionId): PartitionHead => {
      const events = this.#partitions.get(partitionId) ?? [];
      const last = events.at(-1);
      const top: Floor | undefined = last
        ? { sequenceNumber: last.sequenceNumber, offset: last.offset, nextOffset: last.offset + eventSize(last.body), enqueuedTime: last.enqueuedTime }
        : this.#floors.get(partitionId);
      return {
        partitionId,
        beginningSequenceNumber: events[0]?.sequenceNumber ?? -1,
        lastEnqueuedSequenceNumber: top?.sequenceNumber ?? -1,
        lastEnqueuedOffset: top?.offset ?? -1,
        lastEnqueuedTime: top?.enqueuedTime ?? null,
        isEmpty: events.length === 0,
        nextOffset: top?.nextOffset ?? 0,
      };
    });
  }

  async countSince(sinceTime: number): Promise<number> {
    let counted = 0;
    for (const events of this.#partitions.values()) counted += events.filter((event) => event.enqueuedTime >= sinceTime).length;
    return counted;
  }

  async pruneBefore(beforeTime: number): Promise<number> {
    let deleted = 0;
    for (const [partitionId, events] of this.#partitions) {
      const kept = events.filter((event) => event.enqueuedTime >= beforeTime);
      if (kept.length === events.length) continue;
      const last = events.at(-1)!;
      this.#floors.set(partitionId, {
        sequenceNumber: last.sequenceNumber,
        offset: last.offset,
        nextOffset: last.offset + eventSize(last.body),
        enqueuedTime: last.enqueuedTime,
      });
      deleted += events.length - kept.length;
      this.#partitions.set(partitionId, kept);
      this.#keys.set(partitionId, new Set(kept.map((event) => event.sequenceNumber)));
    }
    return deleted;
  }

  async listConsumerGroups(): Promise<string[]> {
    return [DEFAULT_CONSUMER_GROUP, ...[...this.#groups].sort()];
  }

  async createConsumerGroup(name: string): Promise<boolean> {
    if (name === DEFAULT_CONSUMER_GROUP || this.#groups.has(name)) return false;
    this.#groups.add(name);
    return true;
  }

  async deleteConsumerGroup(name: string): Promise<boolean> {
    if (!this.#groups.delete(name)) return false;
    this.#checkpoints.delete(name);
    return true;
  }

  async getCheckpoints(consumerGroup: string): Promise<Checkpoint[]> {
    const checkpoints = this.#checkpoints.get(consumerGroup) ?? new Map<number, Checkpoint>();
    return [...checkpoints.values()].sort((a, b) => a.partitionId - b.partitionId).map((c) => ({ ...c }));
  }

  async setCheckpoint(checkpoint: Checkpoint): Promise<boolean> {
    const { consumerGroup } = checkpoint;
    if (consumerGroup !== DEFAULT_CONSUMER_GROUP && !this.#groups.has(consumerGroup)) return false;
    const checkpoints = this.#checkpoints.get(consumerGroup) ?? new Map<number, Checkpoint>();
    checkpoints.set(checkpoint.partitionId, { ...checkpoint });
    this.#checkpoints.set(consumerGroup, checkpoints);
    return true;
  }
}
