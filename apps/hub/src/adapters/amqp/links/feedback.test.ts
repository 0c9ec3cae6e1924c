/**
 * The feedback link's pump against core's C2D queue on in-memory stores and a fake clock, with a
 * stand-in rhea sender: batches go out unsettled when records wait and the link has credit, and
 * the service's disposition (or the link ending) decides whether their records are deleted or
 * handed out again.
 */

import { EventEmitter } from 'node:events';
import { describe, expect, test } from 'bun:test';
import { CloudToDeviceQueue, IdentityRegistry, MAX_FEEDBACK_BATCH, silentLogger } from '@tributary/core';
import { createMemoryC2dStore, createMemoryStores, FakeClock } from '@tributary/core/testing';
import type { Delivery, Message, Sender } from 'rhea';
import type { AmqpAdapterDeps } from '../deps.ts';
import { openFeedbackSender } from './feedback.ts';
import { RECORD_POLL_INTERVAL_MS } from './record-sender.ts';

const MINUTE_MS = 60_000;

/** Enough turns of the event loop for the pump's store calls to finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

/** The part of a rhea Sender the feedback link uses, with the deliveries it sent. */
class FakeSender extends EventEmitter {
  isOpen = true;
  credit = 0;
  readonly sent: { message: Message; delivery: Delivery }[] = [];
  closedWith: unknown;

  is_open(): boolean {
    return this.isOpen;
  }
  sendable(): boolean {
    return this.isOpen && this.credit > 0;
  }
  send(message: Message): Delivery {
    const delivery = { id: this.sent.length } as unknown as Delivery;
    this.sent.push({ message, delivery });
    this.credit -= 1;
    return delivery;
  }
  close(error?: unknown): void {
    this.closedWith = error;
    this.isOpen = false;
  }

  /** The service granted `credit` (rhea raises `sendable`). */
  grant(credit: number): void {
    this.credit += credit;
    this.emit('sendable', {});
  }
  settle(index: number, outcome: 'accepted' | 'rejected' | 'released' | 'modified'): void {
    this.emit(outcome, { delivery: this.sent[index]!.delivery });
  }
  records(index: number): { originalMessageId: string; statusCode: string; deviceId: string }[] {
    const body = this.sent[index]!.message.body as { content: Buffer };
    return JSON.parse(body.content.toString('utf8'));
  }
}

async function setup() {
  const stores = createMemoryStores();
  const clock = new FakeClock();
  const registry = new IdentityRegistry({ store: stores.registry, clock });
  const feedbackListeners = new Set<() => void>();
  const c2d = new CloudToDeviceQueue({
    store: createMemoryC2dStore(stores.registry),
    clock,
    notifier: { onMessageQueued: () => {}, onFeedbackRecorded: () => feedbackListeners.forEach((listener) => listener()) },
  });
  await registry.createDevice({ deviceId: 'dev1' });
  const onFeedbackRecorded = (listener: () => void) => {
    feedbackListeners.add(listener);
    return () => feedbackListeners.delete(listener);
  };
  const deps = { c2d, clock, logger: silentLogger, eventHubName: 'tributary', onFeedbackRecorded } as unknown as AmqpAdapterDeps;

  /** Sends and completes `count` messages with ack full: one Success record each. */
  const completeMessages = async (count: number) => {
    for (let i = 0; i < count; i++) {
      await c2d.send('dev1', { body: new TextEncoder().encode('hi'), ack: 'full', systemProperties: { 'message-id': `m-${i}` } });
      const message = (await c2d.receive('dev1'))!;
      await c2d.complete('dev1', message.lockToken);
    }
  };
  const open = () => {
    const sender = new FakeSender();
    openFeedbackSender(sender as unknown as Sender, deps);
    return sender;
  };
  /** Records another taker would get now (taking them locks them). */
  const takeable = async () => (await c2d.takeFeedback(1000)).length;
  return { c2d, clock, deps, completeMessages, open, takeable, feedbackListeners };
}

describe('feedback link', () => {
  test('feedback recorded while the link waits goes out at once, without waiting for the poll', async () => {
    const { completeMessages, open, feedbackListeners } = await setup();
    const sender = open();
    sender.grant(10);
    await settle();
    expect(sender.sent).toHaveLength(0);
    await completeMessages(1);
    await settle();
    expect(sender.sent).toHaveLength(1);
    expect(sender.records(0).map((record) => record.originalMessageId)).toEqual(['m-0']);
    expect(feedbackListeners.size).toBe(1);
  });


  test('waiting records go out as one unsettled batch once the service grants credit', async () => {
    const { completeMessages, open } = await setup();
    await completeMessages(2);
    const sender = open();
    await settle();
    expect(sender.sent).toHaveLength(0);
    sender.grant(10);
    await settle();
    expect(sender.sent).toHaveLength(1);
    const { message } = sender.sent[0]!;
    expect(message.content_type).toBe('application/vnd.microsoft.iothub.feedback.json');
    expect(message.user_id).toBe('tributary');
    expect(sender.records(0).map((record) => [record.originalMessageId, record.statusCode, record.deviceId])).toEqual([
      ['m-0', 'Success', 'dev1'],
      ['m-1', 'Success', 'dev1'],
    ]);
  });

  test('a batch holds at most 64 records; the rest follow in the next one', async () => {
    const { completeMessages, open } = await setup();
    await completeMessages(MAX_FEEDBACK_BATCH + 3);
    const sender = open();
    sender.grant(10);
    await settle();
    expect(sender.sent.map((_, index) => sender.records(index).length)).toEqual([MAX_FEEDBACK_BATCH, 3]);
  });

  test('accepted deletes the records: they never come back, even after their lock runs out', async () => {
    const { completeMessages, open, clock, takeable } = await setup();
    await completeMessages(1);
    const sender = open();
    sender.grant(10);
    await settle();
    sender.settle(0, 'accepted');
    await settle();
    clock.advance(2 * MINUTE_MS);
    await settle();
    expect(sender.sent).toHaveLength(1);
    expect(await takeable()).toBe(0);
  });

  test('released records go out again on the next poll', async () => {
    const { completeMessages, open, clock } = await setup();
    await completeMessages(1);
    const sender = open();
    sender.grant(10);
    await settle();
    sender.settle(0, 'released');
    await settle();
    expect(sender.sent).toHaveLength(1);
    clock.advance(RECORD_POLL_INTERVAL_MS);
    await settle();
    expect(sender.sent).toHaveLength(2);
    expect(sender.records(1)[0]!.originalMessageId).toBe('m-0');
  });

  test('modified is an abandon too, counted once although rhea also raises released', async () => {
    const { completeMessages, open, clock } = await setup();
    await completeMessages(1);
    const sender = open();
    sender.grant(10);
    await settle();
    sender.settle(0, 'modified');
    sender.settle(0, 'released');
    await settle();
    clock.advance(RECORD_POLL_INTERVAL_MS);
    await settle();
    expect(sender.sent).toHaveLength(2);
  });

  test('rejected drops the records instead of redelivering an unprocessable batch', async () => {
    const { completeMessages, open, clock, takeable } = await setup();
    await completeMessages(1);
    const sender = open();
    sender.grant(10);
    await settle();
    sender.settle(0, 'rejected');
    await settle();
    clock.advance(2 * MINUTE_MS);
    await settle();
    expect(sender.sent).toHaveLength(1);
    expect(await takeable()).toBe(0);
  });

  test('feedback recorded while the link is open goes out on the next poll', async () => {
    const { completeMessages, open, clock } = await setup();
    const sender = open();
    sender.grant(10);
    await settle();
    expect(sender.sent).toHaveLength(0);
    await completeMessages(1);
    clock.advance(RECORD_POLL_INTERVAL_MS);
    await settle();
    expect(sender.sent).toHaveLength(1);
  });

  test('closing the link hands unsettled records out again at once and stops polling', async () => {
    const { completeMessages, open, clock, takeable } = await setup();
    await completeMessages(2);
    const sender = open();
    sender.grant(10);
    await settle();
    sender.isOpen = false;
    sender.emit('sender_close', {});
    await settle();
    expect(clock.pendingCount).toBe(0);
    expect(await takeable()).toBe(2);
  });

  test('a connection that drops without a detach is noticed on the next poll', async () => {
    const { completeMessages, open, clock, takeable } = await setup();
    await completeMessages(1);
    const sender = open();
    sender.grant(10);
    await settle();
    sender.isOpen = false;
    clock.advance(RECORD_POLL_INTERVAL_MS);
    await settle();
    expect(clock.pendingCount).toBe(0);
    expect(await takeable()).toBe(1);
  });

  test('a failing store detaches the link with amqp:internal-error', async () => {
    const { c2d, open } = await setup();
    c2d.takeFeedback = () => Promise.reject(new Error('store is down'));
    const sender = open();
    sender.grant(10);
    await settle();
    expect(sender.closedWith).toEqual({ condition: 'amqp:internal-error', description: 'The hub failed to process the request' });
  });
});
