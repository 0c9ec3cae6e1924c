import { describe, expect, test } from 'bun:test';
import { EventPipeline, type EventPosition, type EventRecord, type EventStore } from '@tributary/core';
import { FakeClock, MemoryEventStore } from '@tributary/core/testing';
import { PartitionStream, type PartitionOutlet, type PartitionStreamLimits } from './partition-link.ts';

/** A link as the stream sees it: credit the test grants, deliveries it records. */
function recordingOutlet(credit = 0) {
  const delivered: EventRecord[] = [];
  let granted = credit;
  let isOpen = true;
  const outlet: PartitionOutlet = {
    available: () => granted - delivered.length,
    deliver(event) {
      if (delivered.length >= granted) throw new Error('delivered beyond the credit');
      delivered.push(event);
    },
    isOpen: () => isOpen,
  };
  return {
    outlet,
    delivered,
    sequenceNumbers: () => delivered.map((event) => event.sequenceNumber),
    grant(more: number) {
      granted += more;
    },
    detach() {
      isOpen = false;
    },
  };
}

/** Lets pending store reads and pumps run (they resolve through a few promise turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A store whose reads are counted and can be held open, to commit events during a read. */
class ObservedStore {
  reads: { from: EventPosition; maxCount: number }[] = [];
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  constructor(readonly inner: EventStore) {}
  holdReads(): void {
    if (this.#gate) return;
    this.#gate = new Promise((resolve) => (this.#open = resolve));
  }
  releaseReads(): void {
    this.#open?.();
    this.#gate = undefined;
  }
  read: EventStore['read'] = async (partitionId, from, maxCount) => {
    this.reads.push({ from, maxCount });
    const events = await this.inner.read(partitionId, from, maxCount);
    await this.#gate;
    return events;
  };
}

async function openPipeline() {
  const inner = new MemoryEventStore();
  const pipeline = new EventPipeline({ store: inner, clock: new FakeClock(), partitionCount: 1 });
  await pipeline.start();
  const store = new ObservedStore(inner);
  const append = (count: number, body = 'x') =>
    Promise.all(
      Array.from({ length: count }, () =>
        pipeline.append({
          deviceId: 'd1',
          moduleId: null,
          messageSource: 'Telemetry',
          systemProperties: {},
          applicationProperties: {},
          body: new TextEncoder().encode(body),
        }),
      ),
    );
  return { pipeline, store, append };
}

function openStream(
  setup: Awaited<ReturnType<typeof openPipeline>>,
  link: ReturnType<typeof recordingOutlet>,
  start: Exclude<EventPosition, 'end'> = 'start',
  limits: Partial<PartitionStreamLimits> = {},
) {
  const stream = new PartitionStream({ partitionId: 0, start, store: setup.store, events: setup.pipeline, outlet: link.outlet, limits });
  stream.pump();
  return stream;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('PartitionStream', () => {
  test('stored events are delivered in order, never beyond the credit, and the rest once credit is granted', async () => {
    const setup = await openPipeline();
    await setup.append(10);
    const link = recordingOutlet(4);
    const stream = openStream(setup, link);
    await settle();
    stream.pump();
    await settle();
    expect(link.sequenceNumbers()).toEqual([0, 1, 2, 3]);
    link.grant(100);
    stream.pump(); // what the link's 'sendable' event does
    await settle();
    expect(link.sequenceNumbers()).toEqual(range(0, 10));
  });

  test('after catching up, committed events are delivered live without reading the store again', async () => {
    const setup = await openPipeline();
    await setup.append(3);
    const link = recordingOutlet(100);
    openStream(setup, link);
    await settle();
    const readsAfterCatchUp = setup.store.reads.length;
    await setup.append(5);
    await settle();
    expect(link.sequenceNumbers()).toEqual(range(0, 8));
    expect(setup.store.reads.length).toBe(readsAfterCatchUp);
  });

  test('events committed while a catch-up read is in flight are neither skipped nor repeated', async () => {
    const setup = await openPipeline();
    await setup.append(5);
    const link = recordingOutlet(1000);
    setup.store.holdReads();
    openStream(setup, link);
    await settle();
    await setup.append(5); // committed after the read's snapshot, before it returns
    setup.store.releaseReads();
    await settle();
    await setup.append(2);
    await settle();
    expect(link.sequenceNumbers()).toEqual(range(0, 12));
  });

  test('events beyond the buffer bound while the reader has no credit are re-read from the store', async () => {
    const setup = await openPipeline();
    const link = recordingOutlet(0);
    const stream = openStream(setup, link, 'start', { maxBufferedEvents: 3 });
    await settle();
    for (let i = 0; i < 4; i += 1) await setup.append(5);
    await settle();
    expect(link.delivered).toHaveLength(0);
    link.grant(7);
    stream.pump();
    await settle();
    expect(link.sequenceNumbers()).toEqual(range(0, 7));
    link.grant(100);
    stream.pump();
    await settle();
    await setup.append(1);
    await settle();
    expect(link.sequenceNumbers()).toEqual(range(0, 21));
  });

  test('small credit grants cost one store read per page, not one per grant', async () => {
    const setup = await openPipeline();
    await setup.append(100);
    const link = recordingOutlet(0);
    const stream = openStream(setup, link, 'start', { readPageEvents: 50 });
    for (let i = 0; i < 40; i += 1) {
      link.grant(3);
      stream.pump();
      await settle();
    }
    expect(link.sequenceNumbers()).toEqual(range(0, 100));
    expect(setup.store.reads.length).toBeLessThanOrEqual(4);
  });

  test('a sequence number or offset start delivers from the first event at or after it', async () => {
    const setup = await openPipeline();
    await setup.append(6, 'abc'); // offsets 0, 3, 6, 9, 12, 15
    const bySequence = recordingOutlet(100);
    openStream(setup, bySequence, { sequenceNumber: 4 });
    const byOffset = recordingOutlet(100);
    openStream(setup, byOffset, { offset: 7 });
    await settle();
    expect(bySequence.sequenceNumbers()).toEqual([4, 5]);
    expect(byOffset.sequenceNumbers()).toEqual([3, 4, 5]);
  });

  test('a start beyond the last event waits for events that reach it', async () => {
    const setup = await openPipeline();
    await setup.append(2, 'abc');
    const link = recordingOutlet(100);
    openStream(setup, link, { offset: 100 });
    await settle();
    expect(link.delivered).toHaveLength(0);
    await setup.append(40, 'abc'); // offsets 6 … 123
    await settle();
    expect(link.delivered[0]!.offset).toBe(102);
    expect(link.sequenceNumbers()).toEqual(range(34, 42));
  });

  test('under random interleavings of commits, credit and slow reads every event arrives once, in order', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 20; round += 1) {
      const setup = await openPipeline();
      await setup.append(Math.floor(random() * 20));
      const link = recordingOutlet(Math.floor(random() * 5));
      const stream = openStream(setup, link, 'start', { readPageEvents: 1 + Math.floor(random() * 8), maxBufferedEvents: 1 + Math.floor(random() * 6) });
      const appends: Promise<unknown>[] = [];
      for (let step = 0; step < 60; step += 1) {
        const action = random();
        if (action < 0.4) appends.push(setup.append(1 + Math.floor(random() * 4)));
        else if (action < 0.7) {
          link.grant(Math.floor(random() * 6));
          stream.pump();
        } else if (action < 0.8) setup.store.holdReads();
        else setup.store.releaseReads();
        if (random() < 0.5) await settle();
      }
      setup.store.releaseReads();
      await Promise.all(appends);
      const committed = (await setup.store.inner.partitionHeads(1))[0]!.lastEnqueuedSequenceNumber + 1;
      link.grant(10_000);
      stream.pump();
      await settle();
      expect(link.sequenceNumbers()).toEqual(range(0, committed));
      stream.close();
    }
  });

  test('closing, or a link found closed at the next commit, leaves the live feed', async () => {
    const setup = await openPipeline();
    const closed = openStream(setup, recordingOutlet(10));
    const dropped = recordingOutlet(10);
    openStream(setup, dropped);
    expect(setup.pipeline.subscriberCount).toBe(2);
    closed.close();
    expect(setup.pipeline.subscriberCount).toBe(1);
    dropped.detach();
    await setup.append(1);
    await settle();
    expect(setup.pipeline.subscriberCount).toBe(0);
    expect(dropped.delivered).toHaveLength(0);
  });
});
