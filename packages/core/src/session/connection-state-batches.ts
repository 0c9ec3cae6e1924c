/**
 * Group commit of connection states: the Connected / Disconnected changes and lastActivityTime of
 * many identities reach the registry in one `recordConnections` call. A call starts a short
 * window after the first change waiting for it, so the changes of every connection served
 * meanwhile go together; one call is in flight at a time, and what arrives meanwhile waits for
 * the next, so a change never overtakes an earlier change of the same identity. Nobody waits for
 * these writes on a connection's path (the registry's connectionState is an eventually
 * consistent view), which is what makes the window free. Deciding when a state changes is the
 * session registry's business, not this file's.
 * @module
 */

import type { Clock } from '../clock.ts';
import type { ConnectionStateChange, RegistryStore } from '../ports.ts';
import { identityKey } from './device-identity.ts';
import type { ConnectionStates } from './session-services.ts';

/** One store call carries at most this many identities: a few hundred KB of statement at most. */
export const DEFAULT_MAX_BATCH_IDENTITIES = 1000;
/**
 * How long changes gather before a call. Each call is a commit, and on PGlite a commit costs the
 * hub's own thread about 2 ms whatever it carries: 10 ms keeps a storm of thousands of connections
 * a second to about a hundred commits, while the registry trails the connections by as little.
 */
export const DEFAULT_CONNECTION_STATE_WINDOW_MS = 10;

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** The change an identity waits to have written, and everyone waiting for it. */
interface Waiting {
  change: ConnectionStateChange;
  waiters: Waiter[];
}

export interface ConnectionStateBatchesDeps {
  store: Pick<RegistryStore, 'recordConnections'>;
  /** Schedules each call `windowMs` ahead. */
  clock: Clock;
  windowMs?: number;
  maxBatchIdentities?: number;
}

/**
 * @example
 * const connections = new ConnectionStateBatches({ store: stores.registry, clock });
 * await connections.record('d1', null, { isConnected: true, atMs: Date.now(), lastActivityTime: null });
 * // d1 is Connected in the registry
 */
export class ConnectionStateBatches implements ConnectionStates {
  readonly #store: Pick<RegistryStore, 'recordConnections'>;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxBatchIdentities: number;
  /** By identity, in arrival order; taken out when their call starts. */
  readonly #waiting = new Map<string, Waiting>();
  /** The call scheduled or in flight; it schedules the next when changes wait. */
  #nextCall: Promise<void> | undefined;

  constructor(deps: ConnectionStateBatchesDeps) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#windowMs = deps.windowMs ?? DEFAULT_CONNECTION_STATE_WINDOW_MS;
    this.#maxBatchIdentities = deps.maxBatchIdentities ?? DEFAULT_MAX_BATCH_IDENTITIES;
  }

  /**
   * Resolves once the change is written, or rejects with the error of the call that carried it.
   * A change of an identity that already waits for the next call replaces the waiting one, which
   * leaves the row as writing both in turn would.
   */
  record(deviceId: string, moduleId: string | null, change: Omit<ConnectionStateChange, 'deviceId' | 'moduleId'>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const key = identityKey(deviceId, moduleId);
      const earlier = this.#waiting.get(key);
      const next: ConnectionStateChange = {
        deviceId,
        moduleId,
        ...change,
        lastActivityTime: change.lastActivityTime ?? earlier?.change.lastActivityTime ?? null,
      };
      if (earlier) {
        earlier.change = next;
        earlier.waiters.push({ resolve, reject });
      } else {
        this.#waiting.set(key, { change: next, waiters: [{ resolve, reject }] });
      }
      this.#schedule();
    });
  }

  /** Resolves once everything recorded so far is written or failed (before the store closes). */
  async flush(): Promise<void> {
    while (this.#nextCall) await this.#nextCall;
  }

  #schedule(): void {
    if (this.#nextCall) return;
    this.#nextCall = new Promise<void>((done) => {
      this.#clock.schedule(this.#windowMs, () => void this.#call().then(done));
    });
  }

  async #call(): Promise<void> {
    const batch = this.#take();
    try {
      await this.#store.recordConnections(batch.map((waiting) => waiting.change));
      for (const waiting of batch) for (const waiter of waiting.waiters) waiter.resolve();
    } catch (error) {
      for (const waiting of batch) for (const waiter of waiting.waiters) waiter.reject(error);
    }
    this.#nextCall = undefined;
    if (this.#waiting.size > 0) this.#schedule();
  }

  #take(): Waiting[] {
    const batch: Waiting[] = [];
    for (const [key, waiting] of this.#waiting) {
      if (batch.length === this.#maxBatchIdentities) break;
      batch.push(waiting);
      this.#waiting.delete(key);
    }
    return batch;
  }
}
