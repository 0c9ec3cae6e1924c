/**
 * The event pipeline: the one writer of the built-in event stream. It stamps the hub's system
 * properties, positions each message (partition, sequence number, offset, enqueued time) and
 * commits with GROUP COMMIT in commit lanes: partitions are dealt to `commitLanes` lanes, each lane
 * has at most one `store.append` in flight, and everything of its partitions that arrives
 * meanwhile goes together in its next one. One lane suits a single-connection store (PGlite);
 * several let a pooled database (PostgreSQL) overlap commits while each partition still commits
 * strictly in order. `append` resolves only after its batch is committed,
 * which is what lets adapters acknowledge (PUBACK, AMQP accepted, HTTP 204) without ever losing an
 * acknowledged message (DESIGN.md §3). Reading, routing and transports are not its business.
 * @module
 */

import type { Clock } from '../clock.ts';
import { argumentInvalid, HubError, serverError } from '../errors.ts';
import { type Logger, silentLogger } from '../log.ts';
import { approximateSize, type EventInput, stampSystemProperties } from './event-input.ts';
import { type EventRecord, type EventStore, eventSize } from './event-stream.ts';
import { DEFAULT_PARTITION_COUNT, partitionFor, validatePartitionCount } from './partitioner.ts';
import { type RetentionOptions, type RetentionTask, startRetentionTask } from './retention.ts';

/** One store call carries at most this many events: large enough to amortise a commit, small enough to keep latency low. */
export const DEFAULT_MAX_BATCH_EVENTS = 1000;
/** …and at most about this many bytes (a batch holds at least one event, however large). */
export const DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Beyond this many events waiting for a batch, `append` calls wait their turn (see `append`): 50 batches' worth. */
export const DEFAULT_MAX_QUEUED_EVENTS = 50_000;

export interface EventPipelineDeps {
  store: EventStore;
  clock: Clock;
  logger?: Logger;
  /** Partitions of the stream, 1 to 128; default 4. */
  partitionCount?: number;
  maxBatchEvents?: number;
  maxBatchBytes?: number;
  maxQueuedEvents?: number;
  /** Store calls that may be in flight at once, each for its own partitions; 1 to partitionCount, default 1. */
  commitLanes?: number;
}

/** Receives committed events in commit order, one call per batch. Must not throw or mutate them. */
export type EventListener = (events: readonly EventRecord[]) => void;

interface Pending {
  input: EventInput;
  partitionId: number;
  size: number;
  resolve(record: EventRecord): void;
  reject(error: HubError): void;
}

/** The partitions `partitionId % lanes.length === index`: one batch in flight, the rest waiting in arrival order. */
interface Lane {
  queue: Pending[];
  inFlight: Promise<void> | undefined;
}

/** Where the next event of a partition goes. */
interface Cursor {
  nextSequenceNumber: number;
  nextOffset: number;
  lastEnqueuedTime: number;
}

const notOpen = () => new HubError('ServiceUnavailable', 'The event stream is not open');

/**
 * @example
 * const pipeline = new EventPipeline({ store, clock: systemClock, logger });
 * await pipeline.start();
 * const stopRetention = pipeline.startRetention({ retentionMs: DEFAULT_RETENTION_MS });
 * const record = await pipeline.append({ deviceId, moduleId: null, messageSource: 'Telemetry', … });
 * // record is committed: acknowledge the device now
 */
export class EventPipeline {
  readonly partitionCount: number;
  readonly #store: EventStore;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #maxBatchEvents: number;
  readonly #maxBatchBytes: number;
  readonly #maxQueuedEvents: number;

  #cursors: Cursor[] = [];
  #state: 'new' | 'starting' | 'open' | 'closing' | 'closed' = 'new';
  readonly #lanes: Lane[];
  /** Events waiting in the lanes' queues, all lanes together (bounded by maxQueuedEvents). */
  #queued = 0;
  /** Arrived while the lanes' queues were full; moves to them, in order, as they drain. */
  #overflow: Pending[] = [];
  readonly #listeners = new Set<EventListener>();
  readonly #retentionTasks = new Set<RetentionTask>();

  constructor(deps: EventPipelineDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#logger = deps.logger ?? silentLogger;
    this.partitionCount = validatePartitionCount(deps.partitionCount ?? DEFAULT_PARTITION_COUNT);
    this.#maxBatchEvents = positive('maxBatchEvents', deps.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS);
    this.#maxBatchBytes = positive('maxBatchBytes', deps.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES);
    this.#maxQueuedEvents = positive('maxQueuedEvents', deps.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS);
    const laneCount = positive('commitLanes', deps.commitLanes ?? 1);
    if (laneCount > this.partitionCount) throw argumentInvalid(`commitLanes must not exceed partitionCount (${this.partitionCount}), got ${laneCount}`);
    this.#lanes = Array.from({ length: laneCount }, () => ({ queue: [], inFlight: undefined }));
  }

  /** Loads every partition's head from the store, so numbering continues where the last run stopped. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('EventPipeline.start() may be called once');
    this.#state = 'starting';
    const heads = await this.#store.partitionHeads(this.partitionCount);
    this.#cursors = heads.map((head) => ({
      nextSequenceNumber: head.lastEnqueuedSequenceNumber + 1,
      nextOffset: head.nextOffset,
      lastEnqueuedTime: head.lastEnqueuedTime ?? Number.NEGATIVE_INFINITY,
    }));
    this.#state = 'open';
    this.#logger.info('event_stream_opened', {
      partitionCount: this.partitionCount,
      lastSequenceNumbers: heads.map((head) => head.lastEnqueuedSequenceNumber),
    });
  }

  /**
   * Appends one message; resolves with its record once the batch holding it is committed, or
   * rejects with ServerError when that batch failed (nothing of it was stored; the caller must
   * not acknowledge). Messages of one partition are committed in the order `append` was called.
   *
   * Backpressure is by waiting, not refusal: when `maxQueuedEvents` messages already wait for a
   * batch, the message waits (in order) in an overflow line and its promise resolves later. That
   * bounds the batch queue, not memory, since a waiting message is still held; adapters bound
   * memory with their own flow control (MQTT in-flight window, AMQP credit) and may stop reading
   * from connections while `isSaturated` is true.
   */
  append(input: EventInput): Promise<EventRecord> {
    if (this.#state !== 'open') return Promise.reject(notOpen());
    return new Promise<EventRecord>((resolve, reject) => {
      const partitionId = partitionFor(input.deviceId, this.partitionCount);
      const pending: Pending = { input, partitionId, size: approximateSize(input), resolve, reject };
      if (this.#overflow.length > 0 || this.#queued >= this.#maxQueuedEvents) this.#overflow.push(pending);
      else this.#pump(this.#enqueue(pending));
    });
  }

  /**
   * Calls `listener` with every batch committed from now on (the live feed, routing). Returns the
   * function that unsubscribes.
   */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** How many listeners are subscribed (for metrics and tests). */
  get subscriberCount(): number {
    return this.#listeners.size;
  }

  /** Messages accepted but not yet handed to the store. */
  get queuedEvents(): number {
    return this.#queued + this.#overflow.length;
  }

  /** True while appends wait in the overflow line (`maxQueuedEvents` reached). */
  get isSaturated(): boolean {
    return this.queuedEvents >= this.#maxQueuedEvents;
  }

  /** Deletes events enqueued more than `retentionMs` ago; resolves to how many. */
  async pruneOlderThan(retentionMs: number): Promise<number> {
    return this.#store.pruneBefore(this.#clock.now() - retentionMs);
  }

  /**
   * Prunes now and then every `intervalMs` (default: 1 day retention, every 5 minutes) on the
   * clock's timer, until the returned function is called or the pipeline closes. The hub calls it
   * once after `start()`.
   */
  startRetention(options: RetentionOptions = {}): () => void {
    const task = startRetentionTask((retentionMs) => this.pruneOlderThan(retentionMs), options, {
      clock: this.#clock,
      logger: this.#logger,
    });
    this.#retentionTasks.add(task);
    return () => {
      task.stop();
      this.#retentionTasks.delete(task);
    };
  }

  /**
   * Refuses new messages, commits everything already accepted, stops retention and waits for a
   * running prune. Listeners are dropped.
   */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    const tasks = [...this.#retentionTasks];
    for (const task of tasks) task.stop();
    this.#retentionTasks.clear();
    for (let lane = this.#busyLane(); lane; lane = this.#busyLane()) await lane.inFlight;
    await Promise.all(tasks.map((task) => task.idle()));
    this.#listeners.clear();
    this.#state = 'closed';
  }

  #busyLane(): Lane | undefined {
    return this.#lanes.find((lane) => lane.inFlight);
  }

  /** Puts a message in its lane's queue; returns the lane. */
  #enqueue(pending: Pending): Lane {
    const lane = this.#lanes[pending.partitionId % this.#lanes.length]!;
    lane.queue.push(pending);
    this.#queued += 1;
    return lane;
  }

  /** Starts the lane's next batch unless one is in flight. */
  #pump(lane: Lane): void {
    if (lane.inFlight || lane.queue.length === 0) return;
    lane.inFlight = this.#commitNext(lane).finally(() => {
      lane.inFlight = undefined;
      this.#pump(lane);
    });
  }

  /**
   * Takes the batch on the next turn of the event loop, so the messages read in this round of I/O
   * share it (embedded PGlite commits synchronously: started at once, a batch holds what arrived
   * before the first message only).
   */
  async #commitNext(lane: Lane): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    const batch = this.#takeBatch(lane);
    this.#admitOverflow();
    await this.#commit(batch);
  }

  #takeBatch(lane: Lane): Pending[] {
    let count = 0;
    let bytes = 0;
    while (count < lane.queue.length && count < this.#maxBatchEvents) {
      const size = lane.queue[count]!.size;
      if (count > 0 && bytes + size > this.#maxBatchBytes) break;
      bytes += size;
      count += 1;
    }
    this.#queued -= count;
    return lane.queue.splice(0, count);
  }

  /** Moves waiting messages from the overflow line into their lanes while there is room. */
  #admitOverflow(): void {
    const room = this.#maxQueuedEvents - this.#queued;
    if (room <= 0 || this.#overflow.length === 0) return;
    const lanes = new Set(this.#overflow.splice(0, room).map((pending) => this.#enqueue(pending)));
    for (const lane of lanes) this.#pump(lane);
  }

  async #commit(batch: Pending[]): Promise<void> {
    const before = new Map<number, Cursor>();
    const now = this.#clock.now();
    const records = batch.map(({ input, partitionId }) => this.#position(input, partitionId, now, before));
    try {
      await this.#store.append(records);
    } catch (error) {
      // Nothing of the batch is stored: give its numbers to the next batch, so no gap appears.
      for (const [partitionId, cursor] of before) this.#cursors[partitionId] = cursor;
      this.#logger.error('event_batch_failed', { events: batch.length, error });
      for (const pending of batch) pending.reject(serverError(error));
      return;
    }
    batch.forEach((pending, index) => pending.resolve(records[index]!));
    this.#notify(records);
  }

  /** Assigns the next position of the message's partition, remembering the cursor it started from. */
  #position(input: EventInput, partitionId: number, now: number, before: Map<number, Cursor>): EventRecord {
    const cursor = this.#cursors[partitionId]!;
    if (!before.has(partitionId)) before.set(partitionId, { ...cursor });
    // Enqueued time never goes backwards within a partition, even when the wall clock does.
    const enqueuedTime = Math.max(now, cursor.lastEnqueuedTime);
    const record: EventRecord = {
      partitionId,
      sequenceNumber: cursor.nextSequenceNumber,
      offset: cursor.nextOffset,
      enqueuedTime,
      deviceId: input.deviceId,
      moduleId: input.moduleId,
      messageSource: input.messageSource,
      systemProperties: stampSystemProperties(input, enqueuedTime),
      applicationProperties: { ...input.applicationProperties },
      body: input.body,
    };
    cursor.nextSequenceNumber += 1;
    cursor.nextOffset += eventSize(input.body);
    cursor.lastEnqueuedTime = enqueuedTime;
    return record;
  }

  #notify(records: readonly EventRecord[]): void {
    for (const listener of this.#listeners) {
      try {
        listener(records);
      } catch (error) {
        this.#logger.error('event_listener_failed', { error });
      }
    }
  }
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw argumentInvalid(`${name} must be a positive integer, got ${value}`);
  return value;
}
