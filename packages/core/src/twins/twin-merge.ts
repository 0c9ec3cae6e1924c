/**
 * JSON merge of one twin section with its `$metadata` (RFC 7396 semantics, as IoT Hub applies
 * them): objects merge recursively, `null` deletes a key, anything else replaces. Every object
 * and leaf a change touches gets `$lastUpdated` (and, in desired, `$lastUpdatedVersion`), at every
 * level, so deletions stay visible in the parent's stamp (iot-hub-devguide-device-twins,
 * "Device twin metadata"). Inputs are never mutated: a merge copies the objects on the paths it
 * changes and shares every untouched subtree with its input (so a patch costs the size of the
 * patch, not of the twin), which makes twin documents immutable values once built. Validation is
 * twin-limits.ts' business.
 * @module
 */

import type { JsonObject, JsonValue } from '../identity/types.ts';
import { isJsonObject } from './twin-limits.ts';

/** A section's properties and their metadata tree. */
export interface SectionState {
  doc: JsonObject;
  metadata: JsonObject;
}

/**
 * What a change stamps into metadata. `version` is the section's new `$version`, given for
 * desired only: IoT Hub's desired metadata carries `$lastUpdatedVersion`, reported metadata
 * carries just `$lastUpdated` (docs' examples and the import/export twin format).
 */
export interface MetadataStamp {
  lastUpdated: string;
  version?: number;
}

/**
 * Sets an own property, even for `__proto__`, the one key plain assignment on a plain object
 * treats specially (an Object.prototype accessor); every other key is assigned, which is several
 * times cheaper than defining it.
 */
export function setOwn(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

const ownValue = (source: JsonObject, key: string): JsonValue | undefined =>
  Object.hasOwn(source, key) ? source[key] : undefined;

function stampNode(stamp: MetadataStamp): JsonObject {
  return stamp.version === undefined
    ? { $lastUpdated: stamp.lastUpdated }
    : { $lastUpdated: stamp.lastUpdated, $lastUpdatedVersion: stamp.version };
}

function restamp(node: JsonObject, stamp: MetadataStamp): void {
  setOwn(node, '$lastUpdated', stamp.lastUpdated);
  if (stamp.version !== undefined) setOwn(node, '$lastUpdatedVersion', stamp.version);
}

/** A value as stored: objects lose their `null` members (nothing to delete in a new value). */
export function withoutNulls(value: JsonValue): JsonValue {
  if (!isJsonObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (child !== null) setOwn(result, key, withoutNulls(child));
  }
  return result;
}

/** The metadata of a value written whole: a stamp on it and on each object member below it. */
function metadataOf(value: JsonValue, stamp: MetadataStamp): JsonObject {
  const node = stampNode(stamp);
  if (isJsonObject(value)) {
    for (const [key, child] of Object.entries(value)) setOwn(node, key, metadataOf(child, stamp));
  }
  return node;
}

/** Merges `patch` into `doc` and `metadata`, which are the caller's own copies; copies what it descends into. */
function mergeInto(doc: JsonObject, metadata: JsonObject, patch: JsonObject, stamp: MetadataStamp): void {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete doc[key];
      delete metadata[key];
      continue;
    }
    const current = ownValue(doc, key);
    if (isJsonObject(value) && isJsonObject(current)) {
      const existing = ownValue(metadata, key);
      // Spread copies own keys as data, `__proto__` included.
      const child = { ...current };
      const node = isJsonObject(existing) ? { ...existing } : {};
      mergeInto(child, node, value, stamp);
      restamp(node, stamp);
      setOwn(doc, key, child);
      setOwn(metadata, key, node);
    } else {
      const stored = withoutNulls(value);
      setOwn(doc, key, stored);
      setOwn(metadata, key, metadataOf(stored, stamp));
    }
  }
}

/** Applies a merge patch to a section; the root metadata is always restamped. */
export function mergeSection(section: SectionState, patch: JsonObject, stamp: MetadataStamp): SectionState {
  const doc = { ...section.doc };
  const metadata = { ...section.metadata };
  mergeInto(doc, metadata, patch, stamp);
  restamp(metadata, stamp);
  return { doc, metadata };
}

/** A section replaced whole (service PUT, or `null` for the whole section): everything freshly stamped. */
export function replaceSection(next: JsonObject, stamp: MetadataStamp): SectionState {
  const doc = withoutNulls(next) as JsonObject;
  return { doc, metadata: metadataOf(doc, stamp) };
}

/**
 * The patch that turns `before` into `after` for a device that merges what it receives (the SDKs
 * do, with lodash merge): all of `after`, plus `null` for every key `after` no longer has.
 */
export function replacementDelta(before: JsonObject, after: JsonObject): JsonObject {
  const delta: JsonObject = {};
  for (const [key, value] of Object.entries(after)) {
    const previous = ownValue(before, key);
    setOwn(delta, key, isJsonObject(value) && isJsonObject(previous) ? replacementDelta(previous, value) : value);
  }
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) setOwn(delta, key, null);
  }
  return delta;
}

/** The metadata nodes of the keys a patch set (for twin change events), with the root stamp. */
export function metadataOfPatch(metadata: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = {};
  for (const key of ['$lastUpdated', '$lastUpdatedVersion']) {
    const value = ownValue(metadata, key);
    if (value !== undefined) setOwn(result, key, value);
  }
  for (const [key, value] of Object.entries(patch)) {
    const node = ownValue(metadata, key);
    if (value !== null && node !== undefined) setOwn(result, key, node);
  }
  return result;
}
