/**
 * The twin service: the one place twins are read and changed, by devices (through their session)
 * and by services (through the REST API or jobs). Owns If-Match on the twin etag, compare-and-set
 * retries when writers race, and telling the rest of the hub after a change is committed: the
 * desired delta for a connected device, and the change for routing. Merge rules, metadata and
 * limits live in twin-changes.ts; wire formats belong to the adapters.
 * @module
 */

import type { Clock } from '../clock.ts';
import { deviceNotFound, HubError, moduleNotFound, preconditionFailed } from '../errors.ts';
import { etagMatches } from '../identity/etag.ts';
import type { Device, JsonObject, Module, TwinState } from '../identity/types.ts';
import { type BatchEntry, KeyedBatches } from '../keyed-batches.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { RegistryStore } from '../ports.ts';
import { applyReportedPatch, applyServicePatch, applyServiceReplace, type TwinChange, type TwinMutation } from './twin-changes.ts';
import { deviceTwinView, type ServiceTwin, serviceTwin, twinEtag } from './twin-document.ts';
import type { StoredTwin, TwinStore, TwinTarget } from './twin-store.ts';

/** Attempts at a compare-and-set write before giving up with ServiceUnavailable (retried by the SDKs). */
export const MAX_TWIN_WRITE_ATTEMPTS = 5;

export interface TwinServiceDeps {
  twins: TwinStore;
  /** Identity data for the service view (status, connection state, deviceEtag, …). */
  registry: RegistryStore;
  clock: Clock;
  logger?: Logger;
  /**
   * Desired properties changed: `patch` is the delta a connected device must merge, including
   * `"$version": n` (for a replace, the whole new desired plus `null` for removed keys). Called
   * once per change, after it is committed; a throwing listener is logged, never propagated.
   */
  onDesiredPatched?: (target: TwinTarget, patch: JsonObject) => void;
  /** Any committed twin change, for twinChangeEvents routing. Same calling rules. */
  onTwinChanged?: (target: TwinTarget, change: TwinChange) => void;
}

const describe = ({ deviceId, moduleId }: TwinTarget) =>
  moduleId === null ? `device '${deviceId}'` : `module '${moduleId}' of device '${deviceId}'`;

/**
 * @example
 * const twins = new TwinService({ twins: store, registry, clock, onDesiredPatched: (t, p) => sessions.desiredPatched(t, p) });
 * await twins.updateTwin('dev1', null, { properties: { desired: { fan: 'on' } } }, '"*"');
 */
export class TwinService {
  readonly #deps: TwinServiceDeps;
  readonly #logger: Logger;
  /** Writes per twin (key `deviceId\0moduleId`), combined while a batch is being written. */
  readonly #writes = new KeyedBatches<string, PendingWrite, StoredTwin>((_key, batch) => this.#writeBatch(batch));

  constructor(deps: TwinServiceDeps) {
    this.#deps = deps;
    this.#logger = deps.logger ?? silentLogger;
  }

  /** The twin as its device reads it: `{desired: {…, $version}, reported: {…, $version}}`. */
  async getDeviceTwin(deviceId: string, moduleId: string | null): Promise<JsonObject> {
    return deviceTwinView((await this.#stored({ deviceId, moduleId })).state);
  }

  /** Merges a device's reported-properties patch; resolves to the new reported `$version`. */
  async patchReported(deviceId: string, moduleId: string | null, patch: JsonObject): Promise<number> {
    const after = await this.#write({ deviceId, moduleId }, undefined, (state, nowMs) => applyReportedPatch(state, patch, nowMs));
    return after.state.reportedVersion;
  }

  /** The service view of a device's (or module's) twin. */
  async getTwin(deviceId: string, moduleId: string | null = null): Promise<ServiceTwin> {
    const target = { deviceId, moduleId };
    const identity = await this.#identity(target);
    const stored = await this.#stored(target);
    return serviceTwin(identity, stored.state, stored.modelId);
  }

  /**
   * Service PATCH: merges `patch.tags` and `patch.properties.desired` when `ifMatch` (absent, `*`
   * or the twin etag, quoted or not) matches; PreconditionFailed otherwise.
   */
  async updateTwin(deviceId: string, moduleId: string | null, patch: JsonObject, ifMatch?: string | null): Promise<ServiceTwin> {
    return this.#serviceWrite({ deviceId, moduleId }, ifMatch, (state, nowMs) => applyServicePatch(state, patch, nowMs));
  }

  /** Service PUT: replaces tags and desired with those of `twin`; same If-Match rule. */
  async replaceTwin(deviceId: string, moduleId: string | null, twin: JsonObject, ifMatch?: string | null): Promise<ServiceTwin> {
    return this.#serviceWrite({ deviceId, moduleId }, ifMatch, (state, nowMs) => applyServiceReplace(state, twin, nowMs));
  }

  /** Records the model id a device announced on connect (IoT Plug and Play). */
  async setModelId(deviceId: string, moduleId: string | null, modelId: string | null): Promise<void> {
    if (!(await this.#deps.twins.setModelId(deviceId, moduleId, modelId))) throw this.#notFound({ deviceId, moduleId });
  }

  async #serviceWrite(target: TwinTarget, ifMatch: string | null | undefined, mutate: Mutate): Promise<ServiceTwin> {
    const identity = await this.#identity(target);
    const after = await this.#write(target, ifMatch, mutate);
    return serviceTwin(identity, after.state, after.modelId);
  }

  /**
   * Queues a write on the twin and resolves once it is committed. Writes to one twin are
   * combined: while one batch is being written, the next writes wait, and then go together as one
   * read and one compare-and-set, each applied in arrival order on the state the one before it
   * left (so each still gets its own `$version`, checks its own If-Match, and fails alone when
   * invalid). Devices that send several reported patches without waiting cost one round trip
   * pair per batch instead of a retry storm per patch.
   */
  #write(target: TwinTarget, ifMatch: string | null | undefined, mutate: Mutate): Promise<StoredTwin> {
    return this.#writes.submit(`${target.deviceId}\u0000${target.moduleId ?? ''}`, { target, ifMatch, mutate });
  }

  /**
   * Read, apply each write's If-Match and mutation in turn, compare-and-set the result; on a lost
   * race start over. With a specific etag the re-read no longer matches, so a lost race becomes
   * PreconditionFailed for that write. Settles every write of the batch; never throws.
   */
  async #writeBatch(batch: readonly BatchEntry<PendingWrite, StoredTwin>[]): Promise<void> {
    const { target } = batch[0]!.request;
    for (let attempt = 1; ; attempt++) {
      let stored: StoredTwin;
      try {
        stored = await this.#stored(target);
      } catch (error) {
        for (const write of batch) write.reject(error);
        return;
      }
      const nowMs = this.#deps.clock.now();
      let state = stored.state;
      const outcomes = batch.map((write): WriteOutcome => {
        try {
          const { ifMatch, mutate } = write.request;
          if (!etagMatches(ifMatch, twinEtag(state.version))) throw preconditionFailed(`the twin of ${describe(target)}`);
          const mutation = mutate(state, nowMs);
          if (mutation) state = mutation.next;
          return { write, mutation, state };
        } catch (error) {
          return { write, error };
        }
      });
      const isChanged = state !== stored.state;
      let isCommitted = !isChanged;
      try {
        isCommitted ||= await this.#deps.twins.updateTwin(target.deviceId, target.moduleId, state, stored.state.version);
      } catch (error) {
        for (const write of batch) write.reject(error);
        return;
      }
      if (isCommitted) {
        for (const outcome of outcomes) {
          if ('error' in outcome) {
            outcome.write.reject(outcome.error);
            continue;
          }
          if (outcome.mutation) this.#notify(target, outcome.mutation);
          outcome.write.resolve({ ...stored, state: outcome.state });
        }
        return;
      }
      if (attempt >= MAX_TWIN_WRITE_ATTEMPTS) {
        const error = new HubError('ServiceUnavailable', `The twin of ${describe(target)} kept changing during the update, try again`);
        for (const write of batch) write.reject(error);
        return;
      }
      this.#logger.debug('twin_write_retried', { deviceId: target.deviceId, moduleId: target.moduleId, attempt });
    }
  }

  #notify(target: TwinTarget, mutation: TwinMutation): void {
    const { onDesiredPatched, onTwinChanged } = this.#deps;
    const { desiredDelta } = mutation;
    if (desiredDelta && onDesiredPatched) this.#safely('onDesiredPatched', target, () => onDesiredPatched({ ...target }, desiredDelta));
    if (onTwinChanged) this.#safely('onTwinChanged', target, () => onTwinChanged({ ...target }, mutation.change));
  }

  #safely(listener: string, target: TwinTarget, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.#logger.error('twin_listener_failed', { listener, deviceId: target.deviceId, moduleId: target.moduleId, error });
    }
  }

  async #stored(target: TwinTarget): Promise<StoredTwin> {
    const stored = await this.#deps.twins.getTwin(target.deviceId, target.moduleId);
    if (!stored) throw this.#notFound(target);
    return stored;
  }

  async #identity(target: TwinTarget): Promise<Device | Module> {
    const { registry } = this.#deps;
    if (target.moduleId === null) {
      const device = await registry.getDevice(target.deviceId);
      if (!device) throw deviceNotFound(target.deviceId);
      return device;
    }
    const module = await registry.getModule(target.deviceId, target.moduleId);
    if (module) return module;
    if (!(await registry.getDevice(target.deviceId))) throw deviceNotFound(target.deviceId);
    throw moduleNotFound(target.deviceId, target.moduleId);
  }

  #notFound({ deviceId, moduleId }: TwinTarget): HubError {
    return moduleId === null ? deviceNotFound(deviceId) : moduleNotFound(deviceId, moduleId);
  }
}

type Mutate = (state: TwinState, nowMs: number) => TwinMutation | undefined;

interface PendingWrite {
  target: TwinTarget;
  ifMatch: string | null | undefined;
  mutate: Mutate;
}

/** A write of a batch: its mutation (none when it changes nothing) and the state after it, or why it failed. */
type WriteEntry = BatchEntry<PendingWrite, StoredTwin>;
type WriteOutcome = { write: WriteEntry; mutation: TwinMutation | undefined; state: TwinState } | { write: WriteEntry; error: unknown };
