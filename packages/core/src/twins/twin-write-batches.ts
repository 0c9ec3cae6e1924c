/**
 * Group commit of twin writes (a device's reported patch, a service's PATCH or PUT). Each write
 * goes through the commit lane of its device; while a lane's batch is being written, what
 * arrives waits and goes together as the next batch. A batch costs one read and one
 * compare-and-set for all its twins, however many devices it spans. What a write means (merge
 * rules, versions, metadata, limits) is the mutation's business (twin-changes.ts); telling the
 * rest of the hub is the caller's, through `onCommitted`.
 * @module
 */

import type { Clock } from '../clock.ts';
import { argumentInvalid, deviceNotFound, HubError, moduleNotFound, preconditionFailed } from '../errors.ts';
import { etagMatches } from '../identity/etag.ts';
import type { TwinState } from '../identity/types.ts';
import { type BatchEntry, KeyedBatches } from '../keyed-batches.ts';
import type { Logger } from '../log.ts';
import { partitionFor } from '../telemetry/partitioner.ts';
import type { TwinMutation } from './twin-changes.ts';
import { twinEtag } from './twin-document.ts';
import type { StoredTwin, TwinStore, TwinTarget, TwinUpdate } from './twin-store.ts';

/** Attempts at a compare-and-set write before giving up with ServiceUnavailable (retried by the SDKs). */
export const MAX_TWIN_WRITE_ATTEMPTS = 5;

/** The change a write makes to the state it is applied on; undefined when it changes nothing. Throws HubError when invalid. */
export type Mutate = (state: TwinState, nowMs: number) => TwinMutation | undefined;

export interface TwinWrite {
  target: TwinTarget;
  /** The If-Match of a service write: absent, `*` or the twin etag (quoted or not). */
  ifMatch: string | null | undefined;
  mutate: Mutate;
}

export interface TwinWriteBatchesDeps {
  store: TwinStore;
  clock: Clock;
  logger: Logger;
  /** Batches written at once, each for its own share of the devices (default 1). */
  lanes?: number;
  /** A write's mutation was committed; called once per mutation, in the order of the writes. */
  onCommitted(target: TwinTarget, mutation: TwinMutation): void;
}

const describeTwin = ({ deviceId, moduleId }: TwinTarget) =>
  moduleId === null ? `device '${deviceId}'` : `module '${moduleId}' of device '${deviceId}'`;

export const twinNotFound = ({ deviceId, moduleId }: TwinTarget): HubError =>
  moduleId === null ? deviceNotFound(deviceId) : moduleNotFound(deviceId, moduleId);

type WriteEntry = BatchEntry<TwinWrite, StoredTwin>;

/** The writes of one batch to one twin, in arrival order. */
interface PendingTwin {
  target: TwinTarget;
  entries: WriteEntry[];
}

/** A write applied: its mutation (none when it changes nothing) and the state after it, or why it failed. */
type Outcome = { entry: WriteEntry; mutation: TwinMutation | undefined; state: TwinState } | { entry: WriteEntry; error: unknown };

/** One twin's writes applied in turn on the stored twin. */
interface Applied {
  writes: PendingTwin;
  stored: StoredTwin;
  outcomes: Outcome[];
  /** The state after the last write; the stored one when none changed anything. */
  next: TwinState;
}

/**
 * @example
 * const writes = new TwinWriteBatches({ store, clock, logger, lanes: 4, onCommitted: (target, mutation) => notify(target, mutation) });
 * const after = await writes.submit({ target: { deviceId: 'dev1', moduleId: null }, ifMatch: undefined, mutate });
 */
export class TwinWriteBatches {
  readonly #deps: TwinWriteBatchesDeps;
  readonly #lanes: number;
  readonly #batches = new KeyedBatches<number, TwinWrite, StoredTwin>((_lane, batch) => this.#writeBatch(batch));

  constructor(deps: TwinWriteBatchesDeps) {
    const lanes = deps.lanes ?? 1;
    if (!Number.isSafeInteger(lanes) || lanes < 1) throw argumentInvalid(`lanes must be a positive integer, got ${lanes}`);
    this.#deps = deps;
    this.#lanes = lanes;
  }

  /**
   * Resolves to the twin as this write left it, once that is committed. Rejects with the
   * write's own error (If-Match, limits, a missing identity) without affecting the others.
   */
  submit(write: TwinWrite): Promise<StoredTwin> {
    return this.#batches.submit(partitionFor(write.target.deviceId, this.#lanes), write);
  }

  /**
   * Reads every twin of the batch, applies each twin's writes in turn, and compare-and-sets the
   * changed twins in one step. A twin that another writer changed in between (another hub
   * process) is read and applied again, alone with the other losers, up to MAX_TWIN_WRITE_ATTEMPTS
   * times; with a specific etag the newer twin no longer matches, so that write becomes
   * PreconditionFailed. Settles every write; never throws.
   */
  async #writeBatch(batch: readonly WriteEntry[]): Promise<void> {
    let pending = byTwin(batch);
    for (let attempt = 1; pending.length > 0; attempt++) {
      try {
        pending = await this.#attempt(pending);
      } catch (error) {
        for (const { entries } of pending) for (const entry of entries) entry.reject(error);
        return;
      }
      if (pending.length > 0 && attempt >= MAX_TWIN_WRITE_ATTEMPTS) {
        for (const { target, entries } of pending) {
          const error = new HubError('ServiceUnavailable', `The twin of ${describeTwin(target)} kept changing during the update, try again`);
          for (const entry of entries) entry.reject(error);
        }
        return;
      }
      for (const { target } of pending) this.#deps.logger.debug('twin_write_retried', { deviceId: target.deviceId, moduleId: target.moduleId, attempt });
    }
  }

  /** One read and one compare-and-set; settles the twins it is done with and returns those that lost a race. */
  async #attempt(pending: readonly PendingTwin[]): Promise<PendingTwin[]> {
    const { store, clock } = this.#deps;
    const stored = await store.getTwins(pending.map((writes) => writes.target));
    const nowMs = clock.now();
    const applied: Applied[] = [];
    pending.forEach((writes, index) => {
      const twin = stored[index];
      if (twin) applied.push(applyWrites(writes, twin, nowMs));
      else for (const entry of writes.entries) entry.reject(twinNotFound(writes.target));
    });
    const changed = applied.filter(({ stored, next }) => next !== stored.state);
    const updates = changed.map(({ writes, stored, next }): TwinUpdate => ({ ...writes.target, next, expectedVersion: stored.state.version }));
    const written = updates.length === 0 ? [] : await store.updateTwins(updates);
    const lost = new Set(changed.filter((_, index) => !written[index]));
    for (const twin of applied) if (!lost.has(twin)) this.#settle(twin);
    return [...lost].map(({ writes }) => writes);
  }

  #settle({ writes, stored, outcomes }: Applied): void {
    for (const outcome of outcomes) {
      if ('error' in outcome) {
        outcome.entry.reject(outcome.error);
        continue;
      }
      if (outcome.mutation) this.#deps.onCommitted(writes.target, outcome.mutation);
      outcome.entry.resolve({ ...stored, state: outcome.state });
    }
  }
}

/** The batch's writes grouped per twin, each group in arrival order. */
function byTwin(batch: readonly WriteEntry[]): PendingTwin[] {
  const groups = new Map<string, PendingTwin>();
  for (const entry of batch) {
    const { target } = entry.request;
    const key = `${target.deviceId}\u0000${target.moduleId ?? ''}`;
    const group = groups.get(key);
    if (group) group.entries.push(entry);
    else groups.set(key, { target, entries: [entry] });
  }
  return [...groups.values()];
}

/** Applies each write's If-Match and mutation in turn, each on the state the one before it left. */
function applyWrites(writes: PendingTwin, stored: StoredTwin, nowMs: number): Applied {
  let state = stored.state;
  const outcomes = writes.entries.map((entry): Outcome => {
    try {
      const { ifMatch, mutate } = entry.request;
      if (ifMatch != null && !etagMatches(ifMatch, twinEtag(state.version))) throw preconditionFailed(`the twin of ${describeTwin(writes.target)}`);
      const mutation = mutate(state, nowMs);
      if (mutation) state = mutation.next;
      return { entry, mutation, state };
    } catch (error) {
      return { entry, error };
    }
  });
  return { writes, stored, outcomes, next: state };
}
