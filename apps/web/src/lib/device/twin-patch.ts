// The PATCH body that turns a twin section (tags, desired properties) into what the operator
// edited. IoT Hub merges patches (RFC 7396 semantics): a key set to null is removed, nested objects
// merge, so a key the operator deleted must be sent as null. Metadata keys (`$version`,
// `$metadata`) belong to the hub and are never part of the edit.

type JsonObject = { [key: string]: unknown };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A section without the hub's `$`-prefixed metadata keys: what the editor shows. */
export function editableSection(section: JsonObject | undefined): JsonObject {
  return Object.fromEntries(Object.entries(section ?? {}).filter(([key]) => !key.startsWith('$')));
}

/** The merge patch from `original` to `edited` (only the differences; deleted keys become null). */
export function mergePatch(original: JsonObject, edited: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(original)) if (!(key in edited)) patch[key] = null;
  for (const [key, value] of Object.entries(edited)) {
    const before = original[key];
    if (isObject(before) && isObject(value)) {
      const nested = mergePatch(before, value);
      if (Object.keys(nested).length > 0) patch[key] = nested;
    } else if (JSON.stringify(before) !== JSON.stringify(value)) {
      patch[key] = value;
    }
  }
  return patch;
}
