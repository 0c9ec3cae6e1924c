/**
 * The identity registry: the one place that creates, replaces and deletes devices and modules,
 * enforcing etags (If-Match), id rules and key generation. It does not know about HTTP; the
 * service API translates requests into these calls.
 * @module
 */

import type { Clock } from '../clock.ts';
import {
  argumentInvalid,
  deviceAlreadyExists,
  deviceDefinedMultipleTimes,
  deviceNotFound,
  invalidDeviceScope,
  invalidOperation,
  isHubError,
  moduleAlreadyExists,
  moduleNotFound,
  preconditionFailed,
  tooManyDevices,
} from '../errors.ts';
import type { DeviceSearch, RegistryStore } from '../ports.ts';
import type { BulkDeviceOperation, BulkRegistryOperationResult, BulkDeviceError } from './bulk.ts';
import { IMPORT_MODES, MAX_BULK_DEVICES } from './bulk.ts';
import { EDGE_SCOPE_PREFIX, newDevice, replacedDevice, validateDeviceInput } from './device-rules.ts';
import { etagMatches, identityEtag } from './etag.ts';
import { validateDeviceId, validateModuleId } from './identifiers.ts';
import { generateKey } from './keys.ts';
import { newModule, replacedModule } from './module-rules.ts';
import { initialTwinState } from './twin-state.ts';
import type { Authentication, Device, DeviceInput, Module, ModuleInput, RegistryStatistics } from './types.ts';

/** Which keys `regenerateKeys` replaces; `swap` exchanges primary and secondary. */
export type KeyRegeneration = 'primary' | 'secondary' | 'both' | 'swap';

/** IoT Hub returns at most 1000 devices from one list call. */
export const MAX_LIST_DEVICES = 1000;

export interface IdentityRegistryDeps {
  store: RegistryStore;
  clock: Clock;
}

export class IdentityRegistry {
  readonly #store: RegistryStore;
  readonly #clock: Clock;

  constructor({ store, clock }: IdentityRegistryDeps) {
    this.#store = store;
    this.#clock = clock;
  }

  async createDevice(input: DeviceInput): Promise<Device> {
    return this.#createDevice(this.#store, input);
  }

  async getDevice(deviceId: string): Promise<Device> {
    const device = await this.#store.getDevice(deviceId);
    if (!device) throw deviceNotFound(deviceId);
    return device;
  }

  /** Replaces a device (PUT semantics) when `ifMatch` matches; a missing device is DeviceNotFound. */
  async updateDevice(input: DeviceInput, ifMatch?: string | null): Promise<Device> {
    return this.#replaceDevice(this.#store, input, ifMatch);
  }

  async deleteDevice(deviceId: string, ifMatch?: string | null): Promise<void> {
    const current = await this.getDevice(deviceId);
    if (!etagMatches(ifMatch, identityEtag(current.etagVersion))) throw preconditionFailed(`device '${deviceId}'`);
    if (!(await this.#store.deleteDevice(deviceId, current.etagVersion))) throw preconditionFailed(`device '${deviceId}'`);
  }

  async listDevices(options: { top?: number; afterDeviceId?: string } = {}): Promise<Device[]> {
    const top = options.top ?? MAX_LIST_DEVICES;
    if (!Number.isInteger(top) || top < 1 || top > MAX_LIST_DEVICES) {
      throw argumentInvalid(`top must be an integer from 1 to ${MAX_LIST_DEVICES}`);
    }
    return this.#store.listDevices({ limit: top, afterDeviceId: options.afterDeviceId });
  }

  async regenerateDeviceKeys(deviceId: string, which: KeyRegeneration): Promise<Device> {
    const current = await this.getDevice(deviceId);
    const next: Device = {
      ...current,
      etagVersion: current.etagVersion + 1,
      authentication: regenerated(current.authentication, which, `device '${deviceId}'`),
    };
    if (!(await this.#store.updateDevice(next, current.etagVersion))) throw preconditionFailed(`device '${deviceId}'`);
    return next;
  }

  /**
   * Applies up to 100 operations. A malformed request (bad ids, unknown modes, duplicates, invalid
   * keys) is refused whole before anything is written; per-device outcomes (exists, missing, etag)
   * are reported in `errors` while the other operations apply, as IoT Hub does. All writes of one
   * call commit together.
   */
  async bulk(operations: BulkDeviceOperation[]): Promise<BulkRegistryOperationResult> {
    if (operations.length === 0) throw argumentInvalid('The request lists no devices');
    if (operations.length > MAX_BULK_DEVICES) throw tooManyDevices(MAX_BULK_DEVICES);
    const seen = new Set<string>();
    for (const operation of operations) {
      validateDeviceInput(operation.device);
      if (!IMPORT_MODES.includes(operation.importMode)) {
        throw argumentInvalid(`importMode must be one of ${IMPORT_MODES.join(', ')}, got '${String(operation.importMode)}'`);
      }
      const { deviceId } = operation.device;
      if (seen.has(deviceId)) throw deviceDefinedMultipleTimes(deviceId);
      seen.add(deviceId);
    }
    const errors: BulkDeviceError[] = [];
    await this.#store.transaction(async (store) => {
      for (const operation of operations) {
        try {
          await this.#applyBulkOperation(store, operation);
        } catch (error) {
          if (!isHubError(error)) throw error;
          errors.push({ deviceId: operation.device.deviceId, errorCode: error.code, errorStatus: error.message });
        }
      }
    });
    return { isSuccessful: errors.length === 0, errors, warnings: [] };
  }

  async statistics(): Promise<RegistryStatistics> {
    return this.#store.statistics();
  }

  /** A filtered, sorted page of devices and the number matching (the console's device list). */
  searchDevices(search: DeviceSearch): Promise<{ total: number; devices: Device[] }> {
    return this.#store.searchDevices(search);
  }

  async serviceStatistics(): Promise<{ connectedDeviceCount: number }> {
    return { connectedDeviceCount: await this.#store.countConnectedDevices() };
  }

  async createModule(input: ModuleInput): Promise<Module> {
    const module = newModule(input, this.#clock.now());
    await this.getDevice(module.deviceId);
    if (!(await this.#store.insertModule(module, initialTwinState(this.#clock.now())))) {
      throw moduleAlreadyExists(module.deviceId, module.moduleId);
    }
    return module;
  }

  async getModule(deviceId: string, moduleId: string): Promise<Module> {
    const module = await this.#store.getModule(deviceId, moduleId);
    if (!module) throw moduleNotFound(deviceId, moduleId);
    return module;
  }

  async listModules(deviceId: string): Promise<Module[]> {
    await this.getDevice(deviceId);
    return this.#store.listModules(deviceId);
  }

  async updateModule(input: ModuleInput, ifMatch?: string | null): Promise<Module> {
    const current = await this.getModule(validateDeviceId(input.deviceId), validateModuleId(input.moduleId));
    const what = `module '${current.moduleId}' of device '${current.deviceId}'`;
    if (!etagMatches(ifMatch, identityEtag(current.etagVersion))) throw preconditionFailed(what);
    const next = replacedModule(current, input);
    if (!(await this.#store.updateModule(next, current.etagVersion))) throw preconditionFailed(what);
    return next;
  }

  async deleteModule(deviceId: string, moduleId: string, ifMatch?: string | null): Promise<void> {
    const current = await this.getModule(deviceId, moduleId);
    const what = `module '${moduleId}' of device '${deviceId}'`;
    if (!etagMatches(ifMatch, identityEtag(current.etagVersion))) throw preconditionFailed(what);
    if (!(await this.#store.deleteModule(deviceId, moduleId, current.etagVersion))) throw preconditionFailed(what);
  }

  async regenerateModuleKeys(deviceId: string, moduleId: string, which: KeyRegeneration): Promise<Module> {
    const current = await this.getModule(deviceId, moduleId);
    const what = `module '${moduleId}' of device '${deviceId}'`;
    const next: Module = {
      ...current,
      etagVersion: current.etagVersion + 1,
      authentication: regenerated(current.authentication, which, what),
    };
    if (!(await this.#store.updateModule(next, current.etagVersion))) throw preconditionFailed(what);
    return next;
  }

  async #createDevice(store: RegistryStore, input: DeviceInput, seed?: BulkDeviceOperation): Promise<Device> {
    const now = this.#clock.now();
    const device = newDevice(input, now);
    await this.#checkParentScope(store, device);
    if (!(await store.insertDevice(device, initialTwinState(now, seed)))) throw deviceAlreadyExists(device.deviceId);
    return device;
  }

  async #replaceDevice(store: RegistryStore, input: DeviceInput, ifMatch?: string | null): Promise<Device> {
    const deviceId = validateDeviceId(input.deviceId);
    const current = await store.getDevice(deviceId);
    if (!current) throw deviceNotFound(deviceId);
    if (!etagMatches(ifMatch, identityEtag(current.etagVersion))) throw preconditionFailed(`device '${deviceId}'`);
    const next = replacedDevice(current, input, this.#clock.now());
    await this.#checkParentScope(store, next);
    if (!(await store.updateDevice(next, current.etagVersion))) throw preconditionFailed(`device '${deviceId}'`);
    return next;
  }

  /** A leaf device's deviceScope must be the scope of an existing edge device. */
  async #checkParentScope(store: RegistryStore, device: Device): Promise<void> {
    if (device.capabilities.iotEdge || device.deviceScope === null) return;
    const parentId = device.deviceScope.slice(EDGE_SCOPE_PREFIX.length).replace(/-\d+$/, '');
    const parent = await store.getDevice(parentId);
    if (!parent || parent.deviceScope !== device.deviceScope) {
      throw invalidDeviceScope(`deviceScope '${device.deviceScope}' does not belong to a registered edge device`);
    }
  }

  async #applyBulkOperation(store: RegistryStore, operation: BulkDeviceOperation): Promise<void> {
    const { device: input } = operation;
    const etag = operation.etag ?? undefined;
    switch (operation.importMode) {
      case 'create':
        await this.#createDevice(store, input, operation);
        return;
      case 'update':
      case 'updateIfMatchETag': {
        const exists = await store.getDevice(input.deviceId);
        if (!exists) {
          await this.#createDevice(store, input, operation);
          return;
        }
        const ifMatch = operation.importMode === 'update' ? '*' : (etag ?? '');
        await this.#replaceDevice(store, input, ifMatch);
        return;
      }
      case 'delete':
      case 'deleteIfMatchETag': {
        const current = await store.getDevice(input.deviceId);
        if (!current) throw deviceNotFound(input.deviceId);
        const ifMatch = operation.importMode === 'delete' ? '*' : (etag ?? '');
        if (!etagMatches(ifMatch, identityEtag(current.etagVersion))) throw preconditionFailed(`device '${input.deviceId}'`);
        await store.deleteDevice(input.deviceId, current.etagVersion);
        return;
      }
    }
  }
}

function regenerated(authentication: Authentication, which: KeyRegeneration, what: string): Authentication {
  if (authentication.type !== 'sas') {
    throw invalidOperation(`${what} authenticates with ${authentication.type}, it has no symmetric keys to regenerate`);
  }
  const { primaryKey, secondaryKey } = authentication.symmetricKey;
  const symmetricKey =
    which === 'swap'
      ? { primaryKey: secondaryKey, secondaryKey: primaryKey }
      : {
          primaryKey: which === 'secondary' ? primaryKey : generateKey(),
          secondaryKey: which === 'primary' ? secondaryKey : generateKey(),
        };
  return { ...authentication, symmetricKey };
}
