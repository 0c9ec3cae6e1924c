/**
 * A sender of records to a service receiver (feedback batches, file notifications, digest §8):
 * records are taken (locked) from their source, sent unsettled, and the service's disposition
 * decides their fate:
 * - accepted → done; rejected → dropped (AMQP 1.0 §3.4.2: unprocessable), so a message the
 *   service cannot read is not redelivered forever;
 * - released / modified, or the link or connection ends first → released, sent again later.
 *   Should even that fail (the store is gone), the source's lock runs out and frees them.
 * Records go out as soon as they exist: when the source announces new ones, when the service
 * grants credit, and on a poll every second (`RECORD_POLL_INTERVAL_MS`) that also notices dropped
 * connections and sends released records again.
 * @module
 */

import type { Delivery, EventContext, Message, Sender } from 'rhea';
import type { AmqpAdapterDeps } from '../deps.ts';
import { amqpErrorFor } from '../errors.ts';

/** How often an open link looks for records; also the pause before released records go out again. */
export const RECORD_POLL_INTERVAL_MS = 1000;

type Outcome = 'accepted' | 'rejected' | 'released' | 'modified';
const OUTCOMES: readonly Outcome[] = ['accepted', 'rejected', 'released', 'modified'];

/**
 * Where a record sender's records come from and go back to. A record is anything a service
 * receives as one message and settles: a feedback batch, a file notification.
 */
export interface RecordSource {
  /** For log event names: `amqp_{name}_…`. */
  name: string;
  /** Takes (locks) the next message's worth of records; undefined when none wait. */
  take(): Promise<{ message: Message; ids: number[] } | undefined>;
  /** Accepted: the records are done. */
  accept(ids: number[]): Promise<unknown>;
  /** Rejected (unprocessable): the records are dropped, not redelivered forever. */
  drop(ids: number[]): Promise<unknown>;
  /** Released, modified, or the link ended first: the records go out again later. */
  release(ids: number[]): Promise<unknown>;
  /** Calls `listener` when new records are recorded; returns the unsubscribe function. */
  onNew(listener: () => void): () => void;
}

/**
 * Sends `source`'s records on `sender` from now until the link or its connection closes.
 * Dispositions and the close are heard on the link itself, so the container's handlers (C2D
 * dispositions of devices) never see them.
 */
export function openRecordSender(sender: Sender, source: RecordSource, deps: Pick<AmqpAdapterDeps, 'clock' | 'logger'>): void {
  new RecordSender(sender, source, deps).start();
}

class RecordSender {
  readonly #sender: Sender;
  readonly #source: RecordSource;
  readonly #deps: Pick<AmqpAdapterDeps, 'clock' | 'logger'>;
  /** Our unsettled messages: delivery → the ids of the records it carries. */
  readonly #inFlight = new Map<Delivery, number[]>();
  #isClosed = false;
  #isPumping = false;
  #isWakeWanted = false;
  #cancelPoll: () => void = () => {};
  #unsubscribe: () => void = () => {};

  constructor(sender: Sender, source: RecordSource, deps: Pick<AmqpAdapterDeps, 'clock' | 'logger'>) {
    this.#sender = sender;
    this.#source = source;
    this.#deps = deps;
  }

  start(): void {
    this.#sender.on('sendable', () => this.#wake());
    for (const outcome of OUTCOMES) {
      this.#sender.on(outcome, (context: EventContext) => void this.#settled(context.delivery, outcome));
    }
    this.#sender.on('sender_close', () => void this.#close());
    this.#unsubscribe = this.#source.onNew(() => this.#wake());
    this.#wake();
  }

  #isOpen(): boolean {
    return !this.#isClosed && this.#sender.is_open();
  }

  /** Sends what is waiting now, or as soon as the pump that is running has finished. */
  #wake(): void {
    if (this.#isClosed) return;
    if (this.#isPumping) {
      this.#isWakeWanted = true;
      return;
    }
    void this.#pump();
  }

  async #pump(): Promise<void> {
    this.#isPumping = true;
    this.#cancelPoll();
    try {
      do {
        this.#isWakeWanted = false;
        await this.#sendWaitingRecords();
      } while (this.#isWakeWanted);
    } catch (error) {
      this.#failed(error);
      return;
    } finally {
      this.#isPumping = false;
    }
    // A connection that dropped without a detach raises no event on the link: notice it here.
    if (!this.#isOpen()) return void this.#close();
    this.#cancelPoll = this.#deps.clock.schedule(RECORD_POLL_INTERVAL_MS, () => this.#wake());
  }

  async #sendWaitingRecords(): Promise<void> {
    while (this.#isOpen() && this.#sender.sendable()) {
      const next = await this.#source.take();
      if (!next) return;
      if (!this.#isOpen()) {
        await this.#source.release(next.ids);
        return;
      }
      this.#inFlight.set(this.#sender.send(next.message), next.ids);
      this.#deps.logger.debug(`amqp_${this.#source.name}_sent`, { records: next.ids.length });
    }
  }

  async #settled(delivery: Delivery | undefined, outcome: Outcome): Promise<void> {
    // rhea raises `released` as well as `modified` for a modified outcome; the first one counts.
    const ids = delivery ? this.#inFlight.get(delivery) : undefined;
    if (!ids) return;
    this.#inFlight.delete(delivery!);
    try {
      if (outcome === 'accepted') {
        await this.#source.accept(ids);
      } else if (outcome === 'rejected') {
        this.#deps.logger.warn(`amqp_${this.#source.name}_rejected`, { records: ids.length });
        await this.#source.drop(ids);
      } else {
        // Not woken here: the next poll sends them again, so a service that keeps releasing is not flooded.
        await this.#source.release(ids);
      }
    } catch (error) {
      this.#deps.logger.error(`amqp_${this.#source.name}_settle_failed`, { outcome, records: ids.length, error });
    }
  }

  /** The link or its connection ended: stop polling and hand unsettled records out again. */
  async #close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#cancelPoll();
    this.#unsubscribe();
    const ids = [...this.#inFlight.values()].flat();
    this.#inFlight.clear();
    if (ids.length === 0) return;
    try {
      await this.#source.release(ids);
    } catch (error) {
      this.#deps.logger.error(`amqp_${this.#source.name}_release_failed`, { records: ids.length, error });
    }
  }

  /** Taking or sending failed (a bug or a store outage): detach with the error, keep the records. */
  #failed(error: unknown): void {
    this.#deps.logger.error(`amqp_${this.#source.name}_failed`, { error });
    if (this.#sender.is_open()) this.#sender.close(amqpErrorFor(error));
    void this.#close();
  }
}
