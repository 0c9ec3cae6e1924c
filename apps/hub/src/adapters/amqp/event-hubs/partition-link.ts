/**
 * Event Hubs partition receivers (wire digest §9 step 5): a client receiver attached to
 * `{entity}/ConsumerGroups/{cg}/Partitions/{p}` is authorised by a CBS claim, positioned by its
 * selector filter, and fed from the durable event stream — catch-up reads from the store, then
 * events as they commit — never beyond the link credit the client grants. The selector grammar is
 * selector.ts's, the event encoding event-message.ts's; checkpoints and load balancing are the
 * client's (it resumes with a selector), epochs (`com.microsoft:epoch`) are not enforced.
 * @module
 */

import {
  DEFAULT_CONSUMER_GROUP,
  HubError,
  isHubError,
  silentLogger,
  unauthorizedAccess,
  type EventListener,
  type EventPosition,
  type EventRecord,
  type EventStore,
  type Logger,
} from '@tributary/core';
import type { EventContext, Sender } from 'rhea';
import type { AmqpConnectionState, CbsClaim } from '../connection-state.ts';
import type { AmqpAdapterDeps } from '../deps.ts';
import { amqpErrorFor } from '../errors.ts';
import { audienceCovers, type EventHubsAddress } from './addresses.ts';
import { encodeEventMessage } from './event-message.ts';
import { parseSourceFilter } from './selector.ts';

type PartitionAddress = Extract<EventHubsAddress, { kind: 'partition' }>;

export interface PartitionStreamLimits {
  /**
   * Events per store read. Larger than the SDK's credit (3 by default, `3 × maxBatchSize`):
   * the surplus waits in the buffer, so a reader with a small credit window costs one query per
   * page instead of one per grant.
   */
  readPageEvents: number;
  /** Live events held for a reader without credit; beyond either bound they are re-read later. */
  maxBufferedEvents: number;
  maxBufferedBytes: number;
}

export const DEFAULT_PARTITION_STREAM_LIMITS: PartitionStreamLimits = Object.freeze({
  readPageEvents: 500,
  maxBufferedEvents: 1000,
  maxBufferedBytes: 4 * 1024 * 1024,
});

/** Where a partition stream hands events: a link, or a recorder in tests. */
export interface PartitionOutlet {
  /** How many more events may be delivered now (remaining link credit, 0 when the session is full). */
  available(): number;
  deliver(event: EventRecord): void;
  isOpen(): boolean;
}

export interface PartitionStreamOptions {
  partitionId: number;
  /** Where to start; `'end'` must already be resolved to a concrete position by the caller. */
  start: Exclude<EventPosition, 'end'>;
  store: Pick<EventStore, 'read'>;
  events: { subscribe(listener: EventListener): () => void };
  outlet: PartitionOutlet;
  limits?: Partial<PartitionStreamLimits>;
  logger?: Logger;
  /** Called once when reading fails; the stream is closed by then. */
  onFailure?(error: unknown): void;
}

/**
 * One reader's position in one partition. The store is the source of truth and the live feed only
 * a shortcut, which is what makes the hand-over between them exact:
 * - the stream subscribes to committed events *before* its first store read, so nothing committed
 *   afterwards can go unseen; live events join a bounded buffer, kept in sequence order;
 * - every delivery must carry the next sequence number (`#nextSequenceNumber`, set by the first
 *   event the store returns for the start position). A buffered event below it is a duplicate and
 *   is dropped; one above it means a gap (events dropped while the buffer was full, or committed
 *   before the subscription), and the gap is read from the store;
 * - `#isStoreAhead` says the store may hold events beyond the buffer (initially, after a drop, or
 *   after a full page). It is cleared just before a read that starts with an empty buffer, so a
 *   drop during the read sets it again; a short page proves the buffer continues the store.
 * So no event is skipped (a gap always triggers a read) or repeated (sequence numbers only grow).
 * Store reads happen only while the client has credit: a reader without credit costs at most the
 * buffer bounds, and events beyond them are re-read when credit returns.
 * @example
 * const stream = new PartitionStream({ partitionId: 0, start: 'start', store, events: pipeline, outlet });
 * stream.pump(); // and again whenever credit arrives
 */
export class PartitionStream {
  readonly partitionId: number;
  readonly #start: Exclude<EventPosition, 'end'>;
  readonly #store: Pick<EventStore, 'read'>;
  readonly #outlet: PartitionOutlet;
  readonly #limits: PartitionStreamLimits;
  readonly #logger: Logger;
  readonly #onFailure: ((error: unknown) => void) | undefined;
  readonly #unsubscribe: () => void;

  /** The sequence number the next delivery must carry; unknown until the store named the first. */
  #nextSequenceNumber: number | undefined;
  /** Events in ascending sequence order, possibly with gaps; `#head` is the first unconsumed index. */
  #buffer: EventRecord[] = [];
  #head = 0;
  #bufferedBytes = 0;
  #isStoreAhead = true;
  #isPumping = false;
  #isPumpRequested = false;
  #isClosed = false;

  constructor(options: PartitionStreamOptions) {
    this.partitionId = options.partitionId;
    this.#start = options.start;
    this.#store = options.store;
    this.#outlet = options.outlet;
    this.#limits = { ...DEFAULT_PARTITION_STREAM_LIMITS, ...options.limits };
    this.#logger = options.logger ?? silentLogger;
    this.#onFailure = options.onFailure;
    this.#unsubscribe = options.events.subscribe(this.#onCommitted);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Delivers what the credit allows; call again when credit arrives. Idempotent and single-flight. */
  pump(): void {
    if (this.#isClosed) return;
    this.#isPumpRequested = true;
    if (this.#isPumping) return;
    this.#isPumping = true;
    void this.#run();
  }

  /** Stops reading and leaves the live feed. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#unsubscribe();
    this.#buffer = [];
    this.#head = 0;
    this.#bufferedBytes = 0;
  }

  readonly #onCommitted: EventListener = (events) => {
    if (this.#isClosed) return;
    // A connection that dropped sends no link event: leave the feed at the next commit.
    if (!this.#outlet.isOpen()) return this.close();
    let isRelevant = false;
    for (const event of events) {
      if (event.partitionId !== this.partitionId) continue;
      isRelevant = true;
      if (this.#nextSequenceNumber === undefined) {
        // Not positioned yet (offset or time start): only a store read can tell if it qualifies.
        this.#isStoreAhead = true;
        continue;
      }
      const last = this.#buffer.length > this.#head ? this.#buffer[this.#buffer.length - 1]!.sequenceNumber : this.#nextSequenceNumber - 1;
      if (event.sequenceNumber <= last) continue;
      if (this.#buffer.length - this.#head >= this.#limits.maxBufferedEvents || this.#bufferedBytes >= this.#limits.maxBufferedBytes) {
        this.#isStoreAhead = true;
        continue;
      }
      this.#buffer.push(event);
      this.#bufferedBytes += event.body.byteLength;
    }
    if (isRelevant) this.pump();
  };

  async #run(): Promise<void> {
    try {
      while (this.#isPumpRequested && !this.#isClosed) {
        this.#isPumpRequested = false;
        await this.#deliverAvailable();
      }
    } catch (error) {
      this.close();
      this.#onFailure?.(error);
    } finally {
      // In the same turn as the last check, so a pump() requested after it starts a new run.
      this.#isPumping = false;
    }
  }

  async #deliverAvailable(): Promise<void> {
    for (;;) {
      if (this.#isClosed) return;
      if (!this.#outlet.isOpen()) return this.close();
      this.#deliverBuffered();
      // No credit: the client's next flow pumps again. Nothing more to read: the next commit does.
      if (this.#outlet.available() <= 0 || !this.#needsStoreRead()) return;
      const read = await this.#readStore();
      if (read === 0) return;
    }
  }

  #deliverBuffered(): void {
    while (this.#head < this.#buffer.length && this.#outlet.available() > 0) {
      const event = this.#buffer[this.#head]!;
      const next = this.#nextSequenceNumber;
      if (next !== undefined && event.sequenceNumber > next) break; // a gap: the store fills it
      this.#consumeHead();
      if (next !== undefined && event.sequenceNumber < next) continue; // already delivered
      this.#outlet.deliver(event);
      this.#nextSequenceNumber = event.sequenceNumber + 1;
    }
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
  }

  #consumeHead(): void {
    this.#bufferedBytes -= this.#buffer[this.#head]!.body.byteLength;
    this.#head += 1;
  }

  #needsStoreRead(): boolean {
    // With credit left after delivering, a non-empty buffer starts above the next number: a gap.
    return this.#nextSequenceNumber === undefined || this.#isStoreAhead || this.#head < this.#buffer.length;
  }

  /** Reads the next page from the store into the buffer; returns how many events it read. */
  async #readStore(): Promise<number> {
    const next = this.#nextSequenceNumber;
    const from: EventPosition = next === undefined ? this.#start : { sequenceNumber: next };
    const hasBuffered = this.#head < this.#buffer.length;
    // A gap before buffered events needs only the gap; otherwise read a full page.
    const gap = hasBuffered && next !== undefined ? this.#buffer[this.#head]!.sequenceNumber - next : Number.POSITIVE_INFINITY;
    const count = Math.max(1, Math.min(this.#limits.readPageEvents, gap));
    if (!hasBuffered) this.#isStoreAhead = false;
    const page = await this.#store.read(this.partitionId, from, count);
    if (this.#isClosed) return 0;
    if (page.length === 0) {
      // Buffered events are committed, so the store only lacks them once retention deleted them:
      // go on from the buffer rather than wait for a read that cannot fill the gap.
      if (!hasBuffered || this.#head >= this.#buffer.length) return 0;
      this.#nextSequenceNumber = this.#buffer[this.#head]!.sequenceNumber;
      return 1;
    }
    if (!hasBuffered && page.length === count) this.#isStoreAhead = true;

    const first = page[0]!.sequenceNumber;
    if (next !== undefined && first > next) {
      // Retention deleted events the reader had not reached: continue with the oldest kept.
      this.#logger.debug('event_hubs_reader_skipped_expired', { partitionId: this.partitionId, from: next, to: first });
    }
    this.#nextSequenceNumber = first;
    const last = page[page.length - 1]!.sequenceNumber;
    const later = this.#buffer.slice(this.#head).filter((event) => event.sequenceNumber > last);
    this.#buffer = page.concat(later);
    this.#head = 0;
    this.#bufferedBytes = this.#buffer.reduce((bytes, event) => bytes + event.body.byteLength, 0);
    return page.length;
  }
}

/** Streams open on each connection, so the connection's close can end them (`closePartitionSenders`). */
const streamsByConnection = new WeakMap<AmqpConnectionState, Set<PartitionStream>>();

/**
 * Serves a client receiver on a partition address: authorise, check the consumer group and the
 * partition, resolve the start position, then stream. Throws HubError (the caller detaches the
 * link with the mapped condition): IotHubUnauthorizedAccess without a covering CBS claim,
 * GenericNotFound for an unknown consumer group or partition, ArgumentInvalid for a selector it
 * cannot read. Events go out pre-settled (snd-settle-mode `settled`): @azure/event-hubs
 * auto-accepts only unsettled deliveries and needs no outcome, and the stream keeps no
 * per-delivery state.
 */
export async function openPartitionSender(
  _context: EventContext,
  sender: Sender,
  address: PartitionAddress,
  state: AmqpConnectionState,
  deps: AmqpAdapterDeps,
): Promise<void> {
  // rhea writes our attach on the next tick: the settle mode must be set synchronously.
  (sender as unknown as { local: { attach: { snd_settle_mode: number } } }).local.attach.snd_settle_mode = 1;
  const claim = coveringClaim(state, address, deps);
  if (!claim) {
    throw unauthorizedAccess(`No put-token on this connection covers '${resourceOf(address, deps)}'`);
  }
  await requireConsumerGroup(address, deps);
  if (address.partitionId >= deps.events.partitionCount) {
    throw new HubError('GenericNotFound', `The messaging entity '${resourceOf(address, deps)}' could not be found: the hub has ${deps.events.partitionCount} partitions`);
  }
  const source = (sender as unknown as { remote: { attach: { source?: { filter?: unknown } } } }).remote.attach.source;
  const { position } = parseSourceFilter(source?.filter);
  // "Latest" is fixed now, at attach, so events committed before the first credit are not lost.
  const start = position === 'end' ? await endOf(address.partitionId, deps) : position;
  if (!sender.is_open()) return;

  const logger = deps.logger.child({ adapter: 'amqp', connId: state.id, partitionId: address.partitionId });
  const stream = new PartitionStream({
    partitionId: address.partitionId,
    start,
    store: deps.eventStore,
    events: deps.events,
    outlet: linkOutlet(sender),
    logger,
    onFailure: (error) => {
      if (!isHubError(error)) logger.error('event_hubs_read_failed', { error });
      sender.close(amqpErrorFor(error));
    },
  });
  const streams = streamsByConnection.get(state) ?? new Set<PartitionStream>();
  streamsByConnection.set(state, streams);
  streams.add(stream);
  const cancelExpiry = watchExpiry(claim, state, address, sender, stream, deps);
  const end = () => {
    stream.close();
    cancelExpiry();
    streams.delete(stream);
  };
  sender.on('sendable', () => stream.pump());
  sender.on('sender_close', end);
  logger.debug('event_hubs_receiver_attached', { consumerGroup: address.consumerGroup, start: JSON.stringify(start) });
  stream.pump();
}

/**
 * Ends every partition stream of a connection. rhea raises no link event when a connection drops,
 * so the connection's close handler calls this; a stream also notices by itself at the next commit.
 */
export function closePartitionSenders(state: AmqpConnectionState): void {
  for (const stream of streamsByConnection.get(state) ?? []) stream.close();
  streamsByConnection.delete(state);
}

/**
 * rhea lowers a sender's `credit` only when it writes the transfer (next tick), so credit left is
 * counted here: what the client granted in total (`delivery_count + credit`, which sending does
 * not change) minus what this link was handed. `sendable()` also guards the session's buffer.
 */
function linkOutlet(sender: Sender): PartitionOutlet {
  const link = sender as Sender & { credit: number; delivery_count: number };
  let handed = 0;
  return {
    available: () => (sender.sendable() ? link.delivery_count + link.credit - handed : 0),
    deliver(event) {
      // Already encoded: with a message format (0, a bare AMQP message) rhea sends the bytes as they are.
      sender.send(encodeEventMessage(event), undefined, 0);
      handed += 1;
    },
    isOpen: () => sender.is_open(),
  };
}

/** An unexpired Event Hubs claim on the connection whose audience covers the partition. */
function coveringClaim(state: AmqpConnectionState, address: PartitionAddress, deps: AmqpAdapterDeps): Extract<CbsClaim, { kind: 'eventHubs' }> | undefined {
  const now = deps.clock.now();
  let best: Extract<CbsClaim, { kind: 'eventHubs' }> | undefined;
  for (const claim of state.claims.values()) {
    if (claim.kind !== 'eventHubs' || claim.expiresAtMs <= now) continue;
    if (!audienceCovers(claim.audience, address, deps.eventHubName)) continue;
    if (!best || claim.expiresAtMs > best.expiresAtMs) best = claim;
  }
  return best;
}

/**
 * Detaches the link when its token lapses without a renewal: the SDK renews with a put-token for
 * the same audience before expiry, which replaces the claim, so the watch re-arms on the newest.
 */
function watchExpiry(
  claim: Extract<CbsClaim, { kind: 'eventHubs' }>,
  state: AmqpConnectionState,
  address: PartitionAddress,
  sender: Sender,
  stream: PartitionStream,
  deps: AmqpAdapterDeps,
): () => void {
  let cancel = deps.clock.schedule(claim.expiresAtMs - deps.clock.now(), function check() {
    if (stream.isClosed) return;
    const renewed = coveringClaim(state, address, deps);
    if (renewed) {
      cancel = deps.clock.schedule(renewed.expiresAtMs - deps.clock.now(), check);
      return;
    }
    stream.close();
    sender.close(amqpErrorFor(unauthorizedAccess('The token for this link has expired')));
  });
  return () => cancel();
}

async function requireConsumerGroup(address: PartitionAddress, deps: AmqpAdapterDeps): Promise<void> {
  if (address.consumerGroup === DEFAULT_CONSUMER_GROUP) return;
  const wanted = address.consumerGroup.toLowerCase();
  const groups = await deps.eventStore.listConsumerGroups();
  if (groups.some((group) => group.toLowerCase() === wanted)) return;
  // @azure/core-amqp recognises this wording as MessagingEntityNotFoundError (not retried).
  throw new HubError('GenericNotFound', `The messaging entity '${deps.eventHubName}/ConsumerGroups/${address.consumerGroup}' could not be found`);
}

/** The position just after the partition's last event (sequence numbers survive retention). */
async function endOf(partitionId: number, deps: AmqpAdapterDeps): Promise<{ sequenceNumber: number }> {
  const heads = await deps.eventStore.partitionHeads(deps.events.partitionCount);
  const head = heads.find((candidate) => candidate.partitionId === partitionId);
  return { sequenceNumber: (head?.lastEnqueuedSequenceNumber ?? -1) + 1 };
}

function resourceOf(address: PartitionAddress, deps: AmqpAdapterDeps): string {
  return `sb://${deps.hostName}/${deps.eventHubName}/ConsumerGroups/${address.consumerGroup}/Partitions/${address.partitionId}`;
}
