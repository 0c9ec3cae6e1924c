/**
 * The storage port of twins. Twins live in the rows of their device or module (the registry
 * store creates them with the identity and deletes them with it); this port reads and writes the
 * twin part only. Like every store it is dumb: compare-and-set on the twin version, no rules.
 * @module
 */

import type { TwinState } from '../identity/types.ts';

/** Whose twin: a device's (`moduleId` null) or one of its modules'. */
export interface TwinTarget {
  deviceId: string;
  moduleId: string | null;
}

export interface StoredTwin {
  state: TwinState;
  /** The IoT Plug and Play model id the device announced when connecting, if any. */
  modelId: string | null;
}

export interface TwinStore {
  /** The twin of a device (`moduleId` null) or module; undefined when the identity does not exist. */
  getTwin(deviceId: string, moduleId: string | null): Promise<StoredTwin | undefined>;
  /**
   * Writes every field of `next` when the stored twin version equals `expectedVersion`; false
   * otherwise, or when the identity is gone. Identity fields are never touched.
   */
  updateTwin(deviceId: string, moduleId: string | null, next: TwinState, expectedVersion: number): Promise<boolean>;
  /** Records the model id a device announced (does not change the twin version); false when the identity is gone. */
  setModelId(deviceId: string, moduleId: string | null, modelId: string | null): Promise<boolean>;
}
