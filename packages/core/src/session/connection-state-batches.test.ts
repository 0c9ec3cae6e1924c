/**
 * ConnectionStateBatches over a recording, gateable store and a fake clock: one call per window,
 * one call in flight, order per identity, merging within a call, failures reaching exactly their
 * own waiters, and the batch bound.
 */

import { describe, expect, test } from 'bun:test';
import { serverError } from '../errors.ts';
import type { ConnectionStateChange } from '../ports.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { Gate } from '../testing/gate.ts';
import { flushPromises, stateOf } from '../testing/recording-sink.ts';
import { ConnectionStateBatches, DEFAULT_CONNECTION_STATE_WINDOW_MS as WINDOW_MS } from './connection-state-batches.ts';

/** Records each call's changes; a closed gate holds calls in flight; `failNext` fails one call. */
class RecordingStore {
  readonly calls: ConnectionStateChange[][] = [];
  readonly gate = new Gate();
  #failure: unknown;

  failNext(error: unknown): void {
    this.#failure = error;
  }

  async recordConnections(changes: readonly ConnectionStateChange[]): Promise<void> {
    this.calls.push([...changes]);
    const failure = this.#failure;
    this.#failure = undefined;
    await this.gate.pass();
    if (failure !== undefined) throw failure;
  }
}

function setup(maxBatchIdentities?: number) {
  const clock = new FakeClock();
  const store = new RecordingStore();
  const batches = new ConnectionStateBatches({ store, clock, ...(maxBatchIdentities ? { maxBatchIdentities } : {}) });
  /** Lets a window pass and the call it started run on. */
  const nextWindow = async () => {
    clock.advance(WINDOW_MS);
    await flushPromises();
  };
  return { clock, store, batches, nextWindow };
}

const connected = (atMs: number, lastActivityTime: number | null = atMs) => ({ isConnected: true, atMs, lastActivityTime });
const disconnected = (atMs: number, lastActivityTime: number | null = null) => ({ isConnected: false, atMs, lastActivityTime });

describe('group commit', () => {
  test('changes of many identities recorded within one window are written in one call when it ends', async () => {
    const { clock, store, batches, nextWindow } = setup();
    const written = [batches.record('d1', null, connected(1)), batches.record('d2', null, connected(2))];
    clock.advance(WINDOW_MS - 1);
    written.push(batches.record('d1', 'm1', connected(3)));
    expect(store.calls).toEqual([]);
    await nextWindow();
    expect(store.calls).toEqual([
      [
        { deviceId: 'd1', moduleId: null, ...connected(1) },
        { deviceId: 'd2', moduleId: null, ...connected(2) },
        { deviceId: 'd1', moduleId: 'm1', ...connected(3) },
      ],
    ]);
    await Promise.all(written);
  });

  test('a record resolves only once its call has written it', async () => {
    const { store, batches, nextWindow } = setup();
    store.gate.close();
    const written = batches.record('d1', null, connected(1));
    await nextWindow();
    expect(await stateOf(written)).toBe('pending');
    store.gate.open();
    await written;
  });

  test('GIVEN a Connected in flight WHEN the same device disconnects THEN its Disconnected goes in the next call, never before', async () => {
    const { store, batches, nextWindow } = setup();
    store.gate.close();
    const connect = batches.record('d1', null, connected(1));
    await nextWindow();
    const disconnect = batches.record('d1', null, disconnected(2));
    await nextWindow();
    expect(store.calls).toHaveLength(1);
    store.gate.open();
    await connect;
    await nextWindow();
    await disconnect;
    expect(store.calls.map((call) => call.map((change) => change.isConnected))).toEqual([[true], [false]]);
  });

  test('two changes of one identity waiting for the same call are merged: the later state, with the earlier activity when the later has none', async () => {
    const { store, batches, nextWindow } = setup();
    const written = [batches.record('d1', null, connected(1, 5)), batches.record('d1', null, disconnected(7))];
    await nextWindow();
    expect(store.calls).toEqual([[{ deviceId: 'd1', moduleId: null, isConnected: false, atMs: 7, lastActivityTime: 5 }]]);
    await Promise.all(written);
  });

  test('a device and its module are separate identities: neither change replaces the other', async () => {
    const { store, batches, nextWindow } = setup();
    void batches.record('d1', null, connected(1));
    void batches.record('d1', 'm1', disconnected(2));
    await nextWindow();
    expect(store.calls[0]).toHaveLength(2);
  });

  test('a call carries at most maxBatchIdentities identities; the rest follow in the next call', async () => {
    const { store, batches, nextWindow } = setup(2);
    const written = ['a', 'b', 'c'].map((deviceId, index) => batches.record(deviceId, null, connected(index)));
    await nextWindow();
    await nextWindow();
    await Promise.all(written);
    expect(store.calls.map((call) => call.map((change) => change.deviceId))).toEqual([['a', 'b'], ['c']]);
  });
});

describe('failures', () => {
  test('a failed call rejects every waiter of its changes with its error, and the next call is unaffected', async () => {
    const { store, batches, nextWindow } = setup();
    const failure = serverError();
    store.failNext(failure);
    store.gate.close();
    const failed = [batches.record('d1', null, connected(1)), batches.record('d1', null, disconnected(2)), batches.record('d2', null, connected(3))];
    await nextWindow();
    const later = batches.record('d3', null, connected(4));
    store.gate.open();
    const outcomes = await Promise.allSettled(failed);
    expect(outcomes.map((outcome) => outcome.status === 'rejected' && outcome.reason)).toEqual([failure, failure, failure]);
    await nextWindow();
    await later;
    expect(store.calls.at(-1)).toEqual([{ deviceId: 'd3', moduleId: null, ...connected(4) }]);
  });
});

describe('flush', () => {
  test('flush resolves once every change recorded before it is written, across calls', async () => {
    const { clock, store, batches } = setup(1);
    const written = [batches.record('d1', null, connected(1)), batches.record('d2', null, connected(2))];
    const flushed = batches.flush();
    for (let window = 0; window < 3; window++) {
      clock.advance(WINDOW_MS);
      await flushPromises();
    }
    await flushed;
    expect(await stateOf(Promise.all(written))).toBe('resolved');
    expect(store.calls).toHaveLength(2);
  });

  test('flush with nothing recorded resolves at once', async () => {
    const { batches } = setup();
    expect(await stateOf(batches.flush())).toBe('resolved');
  });
});
