/**
 * The twin service: the one place twins are read and changed, by devices (through their session)
 * and by services (through the REST API or jobs). Owns the identity checks and telling the rest
 * of the hub after a change is committed: the desired delta for a connected device, and the change
 * for routing. Writes are group-committed by twin-write-batches.ts (If-Match, compare-and-set
 * retries); merge rules, metadata and limits live in twin-changes.ts; wire formats belong to the
 * adapters.
 * @module
 */

import type { Clock } from '../clock.ts';
import { deviceNotFound, moduleNotFound } from '../errors.ts';
import type { Device, JsonObject, Module } from '../identity/types.ts';
import { type Logger, silentLogger } from '../log.ts';
import type { RegistryStore } from '../ports.ts';
import { applyReportedPatch, applyServicePatch, applyServiceReplace, type TwinChange, type TwinMutation } from './twin-changes.ts';
import { deviceTwinView, type ServiceTwin, serviceTwin } from './twin-document.ts';
import type { StoredTwin, TwinStore, TwinTarget } from './twin-store.ts';
import { type Mutate, TwinWriteBatches, twinNotFound } from './twin-write-batches.ts';

export interface TwinServiceDeps {
  twins: TwinStore;
  /** Identity data for the service view (status, connection state, deviceEtag, …). */
  registry: RegistryStore;
  clock: Clock;
  logger?: Logger;
  /**
   * Write batches committed at once, each for its own share of the devices (default 1); the
   * hub's commit lanes. More lanes than database connections only shrink batches.
   */
  lanes?: number;
  /**
   * Desired properties changed: `patch` is the delta a connected device must merge, including
   * `"$version": n` (for a replace, the whole new desired plus `null` for removed keys). Called
   * once per change, after it is committed; a throwing listener is logged, never propagated.
   */
  onDesiredPatched?: (target: TwinTarget, patch: JsonObject) => void;
  /** Any committed twin change, for twinChangeEvents routing. Same calling rules. */
  onTwinChanged?: (target: TwinTarget, change: TwinChange) => void;
}

/**
 * @example
 * const twins = new TwinService({ twins: store, registry, clock, onDesiredPatched: (t, p) => sessions.desiredPatched(t, p) });
 * await twins.updateTwin('dev1', null, { properties: { desired: { fan: 'on' } } }, '"*"');
 */
export class TwinService {
  readonly #deps: TwinServiceDeps;
  readonly #logger: Logger;
  readonly #writes: TwinWriteBatches;

  constructor(deps: TwinServiceDeps) {
    this.#deps = deps;
    this.#logger = deps.logger ?? silentLogger;
    this.#writes = new TwinWriteBatches({
      store: deps.twins,
      clock: deps.clock,
      logger: this.#logger,
      lanes: deps.lanes,
      onCommitted: (target, mutation) => this.#notify(target, mutation),
    });
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
    if (!(await this.#deps.twins.setModelId(deviceId, moduleId, modelId))) throw twinNotFound({ deviceId, moduleId });
  }

  async #serviceWrite(target: TwinTarget, ifMatch: string | null | undefined, mutate: Mutate): Promise<ServiceTwin> {
    const identity = await this.#identity(target);
    const after = await this.#write(target, ifMatch, mutate);
    return serviceTwin(identity, after.state, after.modelId);
  }

  /**
   * Queues a write on the twin and resolves once it is committed (twin-write-batches.ts): writes
   * of many devices go to the store together, one twin's in arrival order, each getting its own
   * `$version`, checking its own If-Match and failing alone when invalid.
   */
  #write(target: TwinTarget, ifMatch: string | null | undefined, mutate: Mutate): Promise<StoredTwin> {
    return this.#writes.submit({ target, ifMatch, mutate });
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
    const [stored] = await this.#deps.twins.getTwins([target]);
    if (!stored) throw twinNotFound(target);
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
}
