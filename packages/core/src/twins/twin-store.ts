/**
 * The storage port of twins. Twins live in the rows of their device or module (the registry
 * store creates them with the identity and deletes them with it); this port reads and writes the
 * twin part only. Like every store it is dumb: compare-and-set on the twin version, no rules.
 * Reads and writes take many twins at once, so the twin service can group-commit the changes of
 * many devices as one read and one write.
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

/** A compare-and-set of one twin: write every field of `next` if the stored version is still `expectedVersion`. */
export interface TwinUpdate extends TwinTarget {
  next: TwinState;
  expectedVersion: number;
}

export interface TwinStore {
  /**
   * The twins of devices (`moduleId` null) and modules, one answer per target in order:
   * undefined where the identity does not exist. One step however many targets.
   */
  getTwins(targets: readonly TwinTarget[]): Promise<(StoredTwin | undefined)[]>;
  /**
   * Applies each update whose twin's stored version equals its `expectedVersion`, in one atomic
   * step; answers, in order, whether each was written (false on a version conflict, or when the
   * identity is gone). At most one update per twin. Identity fields are never touched.
   */
  updateTwins(updates: readonly TwinUpdate[]): Promise<boolean[]>;
  /** Records the model id a device announced (does not change the twin version); false when the identity is gone. */
  setModelId(deviceId: string, moduleId: string | null, modelId: string | null): Promise<boolean>;
}
