/**
 * Which partition of the event stream a device's events go to. Azure hashes the deviceId, so all
 * of a device's events (and its modules') stay in one partition and keep their order. The hash
 * is FNV-1a 32-bit over the UTF-8 bytes: tiny, stable across processes and releases.
 * @module
 */

import { argumentInvalid } from '../errors.ts';

/** IoT Hub's default for the built-in endpoint. */
export const DEFAULT_PARTITION_COUNT = 4;

/** IoT Hub allows 2 to 128 partitions; one is fine for a small self-hosted hub. */
export const MAX_PARTITION_COUNT = 128;

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** FNV-1a 32-bit hash of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** Throws ArgumentInvalid unless `partitionCount` is an integer from 1 to MAX_PARTITION_COUNT. */
export function validatePartitionCount(partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > MAX_PARTITION_COUNT) {
    throw argumentInvalid(`partitionCount must be an integer from 1 to ${MAX_PARTITION_COUNT}, got ${partitionCount}`);
  }
  return partitionCount;
}

/**
 * The partition of `deviceId`, from 0 to `partitionCount - 1`; the same for every call.
 * @example
 * partitionFor('thermostat-7', DEFAULT_PARTITION_COUNT); // always the same of 0…3
 */
export function partitionFor(deviceId: string, partitionCount: number): number {
  return fnv1a32(deviceId) % partitionCount;
}
