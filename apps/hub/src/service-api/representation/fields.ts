/**
 * Type checks for fields of JSON request bodies. Each failure is ArgumentInvalid naming the field
 * path and the type expected, so a caller sees exactly what to fix. Unknown fields are ignored:
 * the SDKs send read-only fields (etag, generationId, connectionState…) back on update.
 * @module
 */

import { argumentInvalid, type JsonObject } from '@tributary/core';

export type Fields = Record<string, unknown>;

const describe = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

export function objectAt(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw argumentInvalid(`${path} must be a JSON object, got ${describe(value)}`);
  }
  return value as Fields;
}

export function optionalObjectAt(fields: Fields, key: string, path: string): Fields | undefined {
  const value = fields[key];
  return value === undefined || value === null ? undefined : objectAt(value, `${path}.${key}`);
}

export function optionalString(fields: Fields, key: string, path: string): string | undefined {
  const value = fields[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw argumentInvalid(`${path}.${key} must be a string, got ${describe(value)}`);
  return value;
}

export function optionalNullableString(fields: Fields, key: string, path: string): string | null | undefined {
  return fields[key] === null ? null : optionalString(fields, key, path);
}

export function optionalBoolean(fields: Fields, key: string, path: string): boolean | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw argumentInvalid(`${path}.${key} must be true or false, got ${describe(value)}`);
  return value;
}

export function optionalStringArray(fields: Fields, key: string, path: string): string[] | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw argumentInvalid(`${path}.${key} must be an array of strings`);
  }
  return value as string[];
}

export function optionalJsonObject(fields: Fields, key: string, path: string): JsonObject | undefined {
  return optionalObjectAt(fields, key, path) as JsonObject | undefined;
}

/** Unset times are `0001-01-01T00:00:00Z` in IoT Hub's JSON, never null. */
export const UNSET_TIME = '0001-01-01T00:00:00Z';
export const timeJson = (ms: number | null): string => (ms === null ? UNSET_TIME : new Date(ms).toISOString());
