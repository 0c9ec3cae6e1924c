/**
 * The EventStore contract: one suite every implementation must pass (memory, PGlite,
 * PostgreSQL). The store is opened once per suite; each test writes to partitions and consumer
 * groups of its own, and prune tests use eras (years) no other test writes to.
 * @module
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import {
  type Checkpoint,
  DEFAULT_CONSUMER_GROUP,
  type EventRecord,
  type EventStore,
  eventSize,
} from '../telemetry/event-stream.ts';

export interface OpenedEventStore {
  store: EventStore;
  close(): Promise<void>;
}

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 123);
const SECOND = 1000;
const HOUR = 3600 * SECOND;

let counter = 0;
const uniqueName = (label: string) => `${label}-${process.pid}-${++counter}`;

interface SeriesOptions {
  firstSequenceNumber?: number;
  firstOffset?: number;
  firstTime?: number;
  stepMs?: number;
  bodyBytes?: number;
  deviceId?: string;
}

/** `count` consecutive events of one partition, positioned as the pipeline would. */
function series(partitionId: number, count: number, options: SeriesOptions = {}): EventRecord[] {
  const { firstSequenceNumber = 0, firstOffset = 0, firstTime = NOW, stepMs = SECOND, bodyBytes = 10 } = options;
  let offset = firstOffset;
  return Array.from({ length: count }, (_, i) => {
    const body = new TextEncoder().encode(`e${i}:`.padEnd(bodyBytes, '.').slice(0, bodyBytes));
    const event: EventRecord = {
      partitionId,
      sequenceNumber: firstSequenceNumber + i,
      offset,
      enqueuedTime: firstTime + i * stepMs,
      deviceId: options.deviceId ?? `device-${partitionId}`,
      moduleId: null,
      messageSource: 'Telemetry',
      systemProperties: {
        'iothub-connection-device-id': options.deviceId ?? `device-${partitionId}`,
        'iothub-enqueuedtime': new Date(firstTime + i * stepMs).toISOString(),
        'iothub-message-source': 'Telemetry',
      },
      applicationProperties: { index: String(i) },
      body,
    };
    offset += eventSize(body);
    return event;
  });
}

const sequenceNumbers = (events: EventRecord[]) => events.map((event) => event.sequenceNumber);

export function eventStoreContract(name: string, open: () => Promise<OpenedEventStore>): void {
  describe(`event store contract: ${name}`, () => {
    let opened: OpenedEventStore;
    let store: EventStore;
    let nextPartition = 0;
    /** A partition no other test of this suite touches. */
    const freshPartition = () => nextPartition++;

    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });
    afterAll(async () => {
      await opened?.close();
    });

    describe('append and read', () => {
      test('an appended event reads back field for field, its body as a plain Uint8Array', async () => {
        const partitionId = freshPartition();
        const event: EventRecord = {
          partitionId,
          sequenceNumber: 0,
          offset: 0,
          enqueuedTime: NOW,
          deviceId: 'thermostat-ü',
          moduleId: 'sensor',
          messageSource: 'Telemetry',
          systemProperties: {
            'message-id': 'm-1',
            'content-type': 'application/json',
            'iothub-connection-device-id': 'thermostat-ü',
            'iothub-connection-module-id': 'sensor',
            'iothub-connection-auth-method': '{"scope":"module","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}',
            'iothub-connection-auth-generation-id': '638000000000000000',
            'iothub-enqueuedtime': new Date(NOW).toISOString(),
            'iothub-message-source': 'Telemetry',
          },
          applicationProperties: { 'temp alert': 'a&b=c/d', emoji: '🌡️' },
          body: new Uint8Array([0xff, 0x00, 0x7b, 0x22, 0x80]),
        };
        await store.append([event]);
        const [read] = await store.read(partitionId, 'start', 10);
        expect(read).toEqual(event);
        expect(read!.body.constructor).toBe(Uint8Array);
      });

      test('empty bodies, large positions and millisecond times survive the round trip', async () => {
        const partitionId = freshPartition();
        const [event] = series(partitionId, 1, {
          firstSequenceNumber: 3_000_000_000,
          firstOffset: 5_000_000_000_123,
          firstTime: NOW + 7,
          bodyBytes: 0,
        });
        await store.append([event!]);
        expect(await store.read(partitionId, 'start', 10)).toEqual([event!]);
      });

      test('a body of every byte value, longer than one line of base64, reads back byte for byte from each position', async () => {
        const partitionId = freshPartition();
        const [event] = series(partitionId, 1);
        const body = Uint8Array.from({ length: 700 }, (_, i) => (i * 7) % 256);
        const stored = { ...event!, body };
        await store.append([stored]);
        for (const from of ['start', { sequenceNumber: 0 }, { offset: 0 }, { enqueuedTime: 0 }] as const) {
          const [read] = await store.read(partitionId, from, 1);
          expect(read).toEqual(stored);
          expect(read!.body.constructor).toBe(Uint8Array);
        }
      });

      test('reads return events in sequence order across batches, at most maxCount', async () => {
        const partitionId = freshPartition();
        const events = series(partitionId, 6);
        await store.append(events.slice(0, 2));
        await store.append(events.slice(2));
        expect(sequenceNumbers(await store.read(partitionId, 'start', 100))).toEqual([0, 1, 2, 3, 4, 5]);
        expect(sequenceNumbers(await store.read(partitionId, 'start', 4))).toEqual([0, 1, 2, 3]);
      });

      test('a read from a sequence number includes that event', async () => {
        const partitionId = freshPartition();
        await store.append(series(partitionId, 5));
        expect(sequenceNumbers(await store.read(partitionId, { sequenceNumber: 3 }, 10))).toEqual([3, 4]);
        expect(sequenceNumbers(await store.read(partitionId, { sequenceNumber: 3 }, 1))).toEqual([3]);
        expect(await store.read(partitionId, { sequenceNumber: 5 }, 10)).toEqual([]);
      });

      test('a read from an offset includes the event at it, and starts at the next event between offsets', async () => {
        const partitionId = freshPartition();
        const events = series(partitionId, 4, { bodyBytes: 10 });
        await store.append(events);
        expect(events.map((e) => e.offset)).toEqual([0, 10, 20, 30]);
        expect(sequenceNumbers(await store.read(partitionId, { offset: 20 }, 10))).toEqual([2, 3]);
        expect(sequenceNumbers(await store.read(partitionId, { offset: 11 }, 10))).toEqual([2, 3]);
        expect(await store.read(partitionId, { offset: 31 }, 10)).toEqual([]);
      });

      test('a read from an enqueued time includes events at exactly that time', async () => {
        const partitionId = freshPartition();
        await store.append(series(partitionId, 4, { firstTime: NOW, stepMs: SECOND }));
        expect(sequenceNumbers(await store.read(partitionId, { enqueuedTime: NOW + SECOND }, 10))).toEqual([1, 2, 3]);
        expect(sequenceNumbers(await store.read(partitionId, { enqueuedTime: NOW + SECOND + 1 }, 10))).toEqual([2, 3]);
        expect(sequenceNumbers(await store.read(partitionId, { enqueuedTime: 0 }, 10))).toEqual([0, 1, 2, 3]);
      });

      test('a read from the end returns nothing; other partitions are not mixed in', async () => {
        const partitionId = freshPartition();
        const neighbour = freshPartition();
        await store.append([...series(partitionId, 2), ...series(neighbour, 3)]);
        expect(await store.read(partitionId, 'end', 10)).toEqual([]);
        expect((await store.read(partitionId, 'start', 10)).every((e) => e.partitionId === partitionId)).toBe(true);
        expect(sequenceNumbers(await store.read(neighbour, 'start', 10))).toEqual([0, 1, 2]);
        expect(await store.read(freshPartition(), 'start', 10)).toEqual([]);
      });

      test('a batch that repeats a stored position is refused whole', async () => {
        const partitionId = freshPartition();
        const other = freshPartition();
        const events = series(partitionId, 3);
        await store.append(events.slice(0, 2));
        const clash = [...series(other, 2), events[2]!, { ...events[1]!, body: new Uint8Array([1]) }];
        await expect(store.append(clash)).rejects.toThrow();
        expect(sequenceNumbers(await store.read(partitionId, 'start', 10))).toEqual([0, 1]);
        expect(await store.read(other, 'start', 10)).toEqual([]);
      });
    });

    describe('partition heads', () => {
      test('a never-used partition is empty at -1 with the next offset 0', async () => {
        const partitionId = freshPartition();
        const heads = await store.partitionHeads(partitionId + 1);
        expect(heads.map((head) => head.partitionId)).toEqual(Array.from({ length: partitionId + 1 }, (_, i) => i));
        expect(heads[partitionId]).toEqual({
          partitionId,
          beginningSequenceNumber: -1,
          lastEnqueuedSequenceNumber: -1,
          lastEnqueuedOffset: -1,
          lastEnqueuedTime: null,
          isEmpty: true,
          nextOffset: 0,
        });
      });

      test('after appends a head names the first and last event and where the next offset starts', async () => {
        const partitionId = freshPartition();
        const events = series(partitionId, 3, { firstSequenceNumber: 40, firstOffset: 1000, bodyBytes: 7 });
        await store.append(events);
        const head = (await store.partitionHeads(partitionId + 1))[partitionId];
        expect(head).toEqual({
          partitionId,
          beginningSequenceNumber: 40,
          lastEnqueuedSequenceNumber: 42,
          lastEnqueuedOffset: 1014,
          lastEnqueuedTime: events[2]!.enqueuedTime,
          isEmpty: false,
          nextOffset: 1021,
        });
      });

      test('an empty last body still advances the next offset by one', async () => {
        const partitionId = freshPartition();
        await store.append(series(partitionId, 2, { bodyBytes: 0 }));
        const head = (await store.partitionHeads(partitionId + 1))[partitionId];
        expect(head).toMatchObject({ lastEnqueuedSequenceNumber: 1, lastEnqueuedOffset: 1, nextOffset: 2 });
      });
    });

    describe('counting', () => {
      test('countSince counts the events enqueued at or after a time', async () => {
        const era = Date.UTC(2099, 0, 1);
        await store.append(series(freshPartition(), 4, { firstTime: era, stepMs: HOUR }));
        expect(await store.countSince(era + 2 * HOUR)).toBe(2);
        expect(await store.countSince(era + 4 * HOUR)).toBe(0);
      });
    });

    describe('retention', () => {
      test('prune deletes only events enqueued before the cutoff and says how many', async () => {
        const era = Date.UTC(2001, 0, 1);
        const partitionId = freshPartition();
        await store.append(series(partitionId, 4, { firstTime: era, stepMs: HOUR }));
        expect(await store.pruneBefore(era + 2 * HOUR)).toBe(2);
        expect(sequenceNumbers(await store.read(partitionId, 'start', 10))).toEqual([2, 3]);
        const head = (await store.partitionHeads(partitionId + 1))[partitionId];
        expect(head).toMatchObject({ beginningSequenceNumber: 2, lastEnqueuedSequenceNumber: 3, isEmpty: false });
        expect(await store.pruneBefore(era + 2 * HOUR)).toBe(0);
      });

      test('a partition emptied by prune is empty but keeps its numbering', async () => {
        const era = Date.UTC(1990, 0, 1);
        const partitionId = freshPartition();
        const events = series(partitionId, 3, { firstTime: era, bodyBytes: 5 });
        await store.append(events);
        expect(await store.pruneBefore(era + HOUR)).toBe(3);
        const emptied = (await store.partitionHeads(partitionId + 1))[partitionId];
        expect(emptied).toEqual({
          partitionId,
          beginningSequenceNumber: -1,
          lastEnqueuedSequenceNumber: 2,
          lastEnqueuedOffset: 10,
          lastEnqueuedTime: events[2]!.enqueuedTime,
          isEmpty: true,
          nextOffset: 15,
        });
        const [next] = series(partitionId, 1, { firstSequenceNumber: 3, firstOffset: 15, firstTime: NOW });
        await store.append([next!]);
        const resumed = (await store.partitionHeads(partitionId + 1))[partitionId];
        expect(resumed).toMatchObject({ beginningSequenceNumber: 3, lastEnqueuedSequenceNumber: 3, isEmpty: false, nextOffset: 25 });
      });
    });

    describe('long partitions', () => {
      // Longer than a store's index strides (the database stores index every 128th event): every
      // answer is checked against a scan of the events themselves. Groups of 50 events share an
      // enqueued time, so groups straddle every multiple of 128.
      const EVENTS = 600;
      const longPartition = (partitionId: number, era: number) =>
        series(partitionId, EVENTS, { firstTime: era, bodyBytes: 7 }).map((event, i) => {
          const enqueuedTime = era + Math.floor(i / 50) * SECOND;
          return { ...event, enqueuedTime, systemProperties: { ...event.systemProperties, 'iothub-enqueuedtime': new Date(enqueuedTime).toISOString() } };
        });
      const appendInBatches = async (events: EventRecord[]) => {
        for (let i = 0; i < events.length; i += 125) await store.append(events.slice(i, i + 125));
      };

      test('a read from any offset or time, and countSince, agree with a scan of every event', async () => {
        const era = Date.UTC(2150, 0, 1);
        const partitionId = freshPartition();
        const events = longPartition(partitionId, era);
        await appendInBatches(events);
        const expectFrom = (matches: (event: EventRecord) => boolean) =>
          events.filter(matches).slice(0, 5).map((event) => event.sequenceNumber);
        for (const at of [0, 1, 126, 127, 128, 129, 255, 256, 257, 383, 384, 599]) {
          const offset = events[at]!.offset;
          expect(sequenceNumbers(await store.read(partitionId, { offset }, 5))).toEqual(expectFrom((e) => e.offset >= offset));
          expect(sequenceNumbers(await store.read(partitionId, { offset: offset + 1 }, 5))).toEqual(expectFrom((e) => e.offset >= offset + 1));
        }
        for (const group of [0, 1, 2, 3, 5, 7, 11]) {
          const time = era + group * SECOND;
          for (const enqueuedTime of [time - 1, time, time + 1]) {
            expect(sequenceNumbers(await store.read(partitionId, { enqueuedTime }, 5))).toEqual(expectFrom((e) => e.enqueuedTime >= enqueuedTime));
            expect(await store.countSince(enqueuedTime)).toBe(events.filter((e) => e.enqueuedTime >= enqueuedTime).length);
          }
        }
      });

      test('prune cuts between events of one time, wherever the cut falls', async () => {
        const era = Date.UTC(1980, 0, 1);
        const partitionId = freshPartition();
        const events = longPartition(partitionId, era);
        await appendInBatches(events);
        let kept = events;
        for (const group of [2, 3, 6, 12]) {
          const cut = era + group * SECOND;
          const survivors = kept.filter((e) => e.enqueuedTime >= cut);
          expect(await store.pruneBefore(cut)).toBe(kept.length - survivors.length);
          kept = survivors;
          expect(sequenceNumbers(await store.read(partitionId, 'start', EVENTS))).toEqual(sequenceNumbers(kept));
          const firstOffset = events[0]!.offset;
          expect(sequenceNumbers(await store.read(partitionId, { offset: firstOffset }, 1))).toEqual(sequenceNumbers(kept).slice(0, 1));
        }
      });
    });

    describe('consumer groups', () => {
      test('$Default is always listed first and can be neither created nor deleted', async () => {
        expect((await store.listConsumerGroups())[0]).toBe(DEFAULT_CONSUMER_GROUP);
        expect(await store.createConsumerGroup(DEFAULT_CONSUMER_GROUP)).toBe(false);
        expect(await store.deleteConsumerGroup(DEFAULT_CONSUMER_GROUP)).toBe(false);
        const groups = await store.listConsumerGroups();
        expect(groups.filter((group) => group === DEFAULT_CONSUMER_GROUP)).toHaveLength(1);
      });

      test('a created group is listed; creating it again returns false', async () => {
        const group = uniqueName('analytics');
        expect(await store.createConsumerGroup(group)).toBe(true);
        expect(await store.createConsumerGroup(group)).toBe(false);
        const groups = await store.listConsumerGroups();
        expect(groups.filter((g) => g === group)).toHaveLength(1);
      });

      test('a deleted group is gone; deleting it again returns false', async () => {
        const group = uniqueName('short-lived');
        await store.createConsumerGroup(group);
        expect(await store.deleteConsumerGroup(group)).toBe(true);
        expect(await store.listConsumerGroups()).not.toContain(group);
        expect(await store.deleteConsumerGroup(group)).toBe(false);
      });
    });

    describe('checkpoints', () => {
      const checkpoint = (consumerGroup: string, partitionId: number, sequenceNumber: number): Checkpoint => ({
        consumerGroup,
        partitionId,
        sequenceNumber,
        offset: sequenceNumber * 10 + 5_000_000_000,
        updatedAt: NOW + sequenceNumber,
      });

      test('a checkpoint is stored per partition and replaced by the next one', async () => {
        const group = uniqueName('checkpointer');
        await store.createConsumerGroup(group);
        expect(await store.getCheckpoints(group)).toEqual([]);
        expect(await store.setCheckpoint(checkpoint(group, 1, 5))).toBe(true);
        expect(await store.setCheckpoint(checkpoint(group, 0, 9))).toBe(true);
        expect(await store.setCheckpoint(checkpoint(group, 1, 7))).toBe(true);
        expect(await store.getCheckpoints(group)).toEqual([checkpoint(group, 0, 9), checkpoint(group, 1, 7)]);
      });

      test('$Default takes checkpoints without being created', async () => {
        const partitionId = freshPartition();
        expect(await store.setCheckpoint(checkpoint(DEFAULT_CONSUMER_GROUP, partitionId, 3))).toBe(true);
        const stored = await store.getCheckpoints(DEFAULT_CONSUMER_GROUP);
        expect(stored.find((c) => c.partitionId === partitionId)).toEqual(checkpoint(DEFAULT_CONSUMER_GROUP, partitionId, 3));
      });

      test('a missing group takes no checkpoint and has none', async () => {
        const group = uniqueName('missing');
        expect(await store.setCheckpoint(checkpoint(group, 0, 1))).toBe(false);
        expect(await store.getCheckpoints(group)).toEqual([]);
        expect(await store.listConsumerGroups()).not.toContain(group);
      });

      test('deleting a group deletes its checkpoints', async () => {
        const group = uniqueName('recreated');
        await store.createConsumerGroup(group);
        await store.setCheckpoint(checkpoint(group, 0, 1));
        await store.deleteConsumerGroup(group);
        await store.createConsumerGroup(group);
        expect(await store.getCheckpoints(group)).toEqual([]);
      });
    });
  });
}
