/**
 * The shape rules IoT Hub puts on tags, desired and reported properties (Microsoft Learn,
 * iot-hub-devguide-device-twins, "Tags and properties format" and "Device twin size"), checked on
 * a patch before anything is merged, so a refused patch changes nothing. Merging is not this
 * file's business (twin-merge.ts).
 *
 * Choices where the docs leave room:
 * - Arrays are accepted as values (newer hubs accept them; older docs said "not allowed"); an
 *   array counts as one nesting level, as an object does.
 * - Depth counts object levels below the section root: `tags.one…ten = {"property": 1}` is the
 *   deepest allowed (the docs' own example), an object one level deeper is refused.
 * - Sizes follow the docs' algorithm, not JSON text length: key bytes + value size, strings in
 *   UTF-8 bytes without control characters, numbers 8, booleans 4, objects and arrays the sum of
 *   their parts. An operation is refused when it would grow a section beyond its limit.
 * - Strings may not hold U+0000 or unpaired surrogates: PostgreSQL's jsonb cannot store them.
 * - IoT Hub's integer range (±2^52) is not enforced: after JSON.parse an integer literal and an
 *   integral float (`1e300`) look the same, and refusing the latter would be wrong.
 * @module
 */

import { argumentInvalid } from '../errors.ts';
import type { JsonObject, JsonValue } from '../identity/types.ts';

export const TWIN_LIMITS = {
  /** Bytes of `tags` (IoT Hub: 8 KB). */
  maxTagsBytes: 8 * 1024,
  /** Bytes of `properties.desired` (IoT Hub: 32 KB). */
  maxDesiredBytes: 32 * 1024,
  /** Bytes of `properties.reported` (IoT Hub: 32 KB). */
  maxReportedBytes: 32 * 1024,
  /** Object levels below a section root (IoT Hub: 10; 5 on hubs created before 2019). */
  maxDepth: 10,
  /** UTF-8 bytes of a key (IoT Hub: 1 KB). */
  maxKeyBytes: 1024,
  /** UTF-8 bytes of a string value (IoT Hub: 4 KB). */
  maxStringBytes: 4 * 1024,
} as const;

export type TwinSection = 'tags' | 'desired' | 'reported';

/** Where a section sits in the twin document, as messages name it. */
export const SECTION_PATHS: Readonly<Record<TwinSection, string>> = {
  tags: 'tags',
  desired: 'properties.desired',
  reported: 'properties.reported',
};

const SECTION_MAX_BYTES: Readonly<Record<TwinSection, number>> = {
  tags: TWIN_LIMITS.maxTagsBytes,
  desired: TWIN_LIMITS.maxDesiredBytes,
  reported: TWIN_LIMITS.maxReportedBytes,
};

/** Keys the hub manages at a section root; a patch may carry them (a twin read back and sent again), they are ignored. */
const HUB_MANAGED_KEYS = new Set(['$version', '$metadata']);

const CONTROL = /\p{Cc}/u;
const CONTROLS = /\p{Cc}/gu;
const LONE_SURROGATE = /\p{Cs}/u;
const FORBIDDEN_KEY_CHARACTER = /[.$ ]/;

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A key as messages show it: JSON-quoted, shortened when long. */
function shown(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key);
}

function checkKey(key: string, path: string): void {
  const where = `${shown(key)} in ${path}`;
  if (key === '') throw argumentInvalid(`Empty keys are not allowed (in ${path})`);
  if (utf8Bytes(key) > TWIN_LIMITS.maxKeyBytes) {
    throw argumentInvalid(`Key ${where} is longer than ${TWIN_LIMITS.maxKeyBytes} bytes`);
  }
  if (FORBIDDEN_KEY_CHARACTER.test(key) || CONTROL.test(key) || LONE_SURROGATE.test(key)) {
    throw argumentInvalid(`Key ${where} is not allowed: keys may not contain '.', '$', spaces or control characters`);
  }
}

function checkValue(value: JsonValue, path: string, depth: number): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (utf8Bytes(value) > TWIN_LIMITS.maxStringBytes) {
      throw argumentInvalid(`The string at ${path} is longer than ${TWIN_LIMITS.maxStringBytes} bytes`);
    }
    if (value.includes('\u0000') || LONE_SURROGATE.test(value)) {
      throw argumentInvalid(`The string at ${path} holds U+0000 or an unpaired surrogate, which twins cannot store`);
    }
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw argumentInvalid(`The number at ${path} is not finite`);
    return;
  }
  if (depth > TWIN_LIMITS.maxDepth) {
    throw argumentInvalid(`${path} nests deeper than ${TWIN_LIMITS.maxDepth} levels`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => checkValue(item, `${path}[${index}]`, depth + 1));
    return;
  }
  if (isJsonObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      checkKey(key, path);
      checkValue(child, `${path}.${key}`, depth + 1);
    }
    return;
  }
  throw argumentInvalid(`The value at ${path} is not JSON`);
}

/**
 * Checks a patch (or a replacement) for one section and returns it without the `$version` and
 * `$metadata` a caller may have copied from a twin it read. Throws ArgumentInvalid naming the
 * key or limit at fault.
 */
export function validatedSectionPatch(section: TwinSection, patch: unknown): JsonObject {
  const path = SECTION_PATHS[section];
  if (!isJsonObject(patch)) throw argumentInvalid(`${path} must be a JSON object`);
  const cleaned: JsonObject = {};
  for (const [key, value] of Object.entries(patch)) {
    if (HUB_MANAGED_KEYS.has(key)) continue;
    checkKey(key, path);
    checkValue(value, `${path}.${key}`, 1);
    Object.defineProperty(cleaned, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return cleaned;
}

/** A section's size as IoT Hub counts it (see the module comment). */
export function twinSize(value: JsonValue): number {
  if (value === null) return 0;
  if (typeof value === 'string') return utf8Bytes(value.replace(CONTROLS, ''));
  if (typeof value === 'number') return 8;
  if (typeof value === 'boolean') return 4;
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + twinSize(item), 0);
  let sum = 0;
  for (const [key, child] of Object.entries(value)) sum += utf8Bytes(key.replace(CONTROLS, '')) + twinSize(child);
  return sum;
}

/** Refuses a change that grows a section beyond its limit (shrinking an oversized one is allowed). */
export function checkSectionSize(section: TwinSection, before: JsonObject, after: JsonObject): void {
  const max = SECTION_MAX_BYTES[section];
  const size = twinSize(after);
  if (size > max && size > twinSize(before)) {
    throw argumentInvalid(`${SECTION_PATHS[section]} would be ${size} bytes, more than the limit of ${max} bytes`);
  }
}
