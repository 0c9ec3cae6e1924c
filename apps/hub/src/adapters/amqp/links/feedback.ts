/**
 * The service's feedback receiver (our sender on `/messages/serviceBound/feedback`, digest §8):
 * C2D delivery feedback leaves core's queue in batches of at most 64 records, sent unsettled, and
 * the service's disposition decides what happens to the records of a batch. This module owns the
 * link's pump and which delivery carried which records; the records, their locks and the batch
 * format belong to core's C2D queue and message-mapping.ts.
 *
 * - accepted → the records are acknowledged (deleted).
 * - released / modified → they are abandoned and go out again in a later batch.
 * - rejected → the service calls the batch unprocessable (AMQP 1.0 §3.4.2): the records are
 *   dropped like a dead-lettered message, so a batch the service cannot read is not redelivered forever.
 * - the link or connection ends before a disposition → they are abandoned. Should even that fail
 *   (the store is gone), the queue's feedback lock runs out and hands them out again.
 *
 * IoT Hub sends a batch once 64 records wait or every 15 s. We send as soon as records exist: when
 * the queue records feedback (`onFeedbackRecorded`), when the service grants credit, and on a poll
 * every second (`FEEDBACK_POLL_INTERVAL_MS`) that also notices dropped connections and sends
 * released records again.
 * @module
 */

import { MAX_FEEDBACK_BATCH } from '@tributary/core';
import type { Delivery, EventContext, Sender } from 'rhea';
import type { AmqpAdapterDeps } from '../deps.ts';
import { amqpErrorFor } from '../errors.ts';
import { feedbackBatchToAmqp } from '../message-mapping.ts';

/** How often an open feedback link looks for new records; also the pause before released records go out again. */
export const FEEDBACK_POLL_INTERVAL_MS = 1000;

type Outcome = 'accepted' | 'rejected' | 'released' | 'modified';
const OUTCOMES: readonly Outcome[] = ['accepted', 'rejected', 'released', 'modified'];

/**
 * The service attached its feedback receiver: from now until the link or its connection closes,
 * waiting feedback goes out on `sender`. Dispositions and the close are heard on the link itself,
 * so the container's handlers (C2D dispositions of devices) never see them.
 */
export function openFeedbackSender(sender: Sender, deps: AmqpAdapterDeps): void {
  new FeedbackLink(sender, deps).start();
}

class FeedbackLink {
  readonly #sender: Sender;
  readonly #deps: AmqpAdapterDeps;
  /** Our unsettled batches: delivery → the ids of the records it carries. */
  readonly #inFlight = new Map<Delivery, number[]>();
  #isClosed = false;
  #isPumping = false;
  #isWakeWanted = false;
  #cancelPoll: () => void = () => {};
  #unsubscribe: () => void = () => {};

  constructor(sender: Sender, deps: AmqpAdapterDeps) {
    this.#sender = sender;
    this.#deps = deps;
  }

  start(): void {
    this.#sender.on('sendable', () => this.#wake());
    for (const outcome of OUTCOMES) {
      this.#sender.on(outcome, (context: EventContext) => void this.#settled(context.delivery, outcome));
    }
    this.#sender.on('sender_close', () => void this.#close());
    this.#unsubscribe = this.#deps.onFeedbackRecorded(() => this.#wake());
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
        await this.#sendWaitingBatches();
      } while (this.#isWakeWanted);
    } catch (error) {
      this.#failed(error);
      return;
    } finally {
      this.#isPumping = false;
    }
    // A connection that dropped without a detach raises no event on the link: notice it here.
    if (!this.#isOpen()) return void this.#close();
    this.#cancelPoll = this.#deps.clock.schedule(FEEDBACK_POLL_INTERVAL_MS, () => this.#wake());
  }

  async #sendWaitingBatches(): Promise<void> {
    while (this.#isOpen() && this.#sender.sendable()) {
      const records = await this.#deps.c2d.takeFeedback(MAX_FEEDBACK_BATCH);
      if (records.length === 0) return;
      const ids = records.map((record) => record.id);
      if (!this.#isOpen()) {
        await this.#deps.c2d.abandonFeedback(ids);
        return;
      }
      const delivery = this.#sender.send(feedbackBatchToAmqp(records, this.#deps.eventHubName));
      this.#inFlight.set(delivery, ids);
      this.#deps.logger.debug('amqp_feedback_batch_sent', { records: ids.length });
    }
  }

  async #settled(delivery: Delivery | undefined, outcome: Outcome): Promise<void> {
    // rhea raises `released` as well as `modified` for a modified outcome; the first one counts.
    const ids = delivery ? this.#inFlight.get(delivery) : undefined;
    if (!ids) return;
    this.#inFlight.delete(delivery!);
    try {
      if (outcome === 'accepted') {
        await this.#deps.c2d.acknowledgeFeedback(ids);
      } else if (outcome === 'rejected') {
        this.#deps.logger.warn('amqp_feedback_batch_rejected', { records: ids.length });
        await this.#deps.c2d.acknowledgeFeedback(ids);
      } else {
        // Not woken here: the next poll sends them again, so a service that keeps releasing is not flooded.
        await this.#deps.c2d.abandonFeedback(ids);
      }
    } catch (error) {
      this.#deps.logger.error('amqp_feedback_settle_failed', { outcome, records: ids.length, error });
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
      await this.#deps.c2d.abandonFeedback(ids);
    } catch (error) {
      this.#deps.logger.error('amqp_feedback_abandon_failed', { records: ids.length, error });
    }
  }

  /** Taking or sending feedback failed (a bug or a store outage): detach with the error, keep the records. */
  #failed(error: unknown): void {
    this.#deps.logger.error('amqp_feedback_failed', { error });
    if (this.#sender.is_open()) this.#sender.close(amqpErrorFor(error));
    void this.#close();
  }
}
