/**
 * The three ways a twin changes, as pure functions from the current TwinState to the next one:
 * a device's reported patch, a service's PATCH (tags and desired merged) and a service's PUT
 * (tags and desired replaced). Each bumps the versions it must (twin `version` always, a section's
 * `$version` when that section changed), stamps `$metadata`, checks IoT Hub's limits before
 * anything is written, and describes the change for the device (desired delta) and for routing
 * (twin change event). Storage, etags and notification belong to the TwinService.
 * @module
 */

import { argumentInvalid } from '../errors.ts';
import type { JsonObject, TwinState } from '../identity/types.ts';
import { checkSectionSize, isJsonObject, validatedSectionPatch } from './twin-limits.ts';
import { mergeSection, metadataOfPatch, replacementDelta, replaceSection, withoutNulls } from './twin-merge.ts';
import { twinProperties } from './twin-document.ts';

/**
 * A twin change for routing's twinChangeEvents (digest §11): `updateTwin` bodies hold the changed
 * sections as a patch with their `$metadata` and `$version`; `replaceTwin` bodies hold tags and
 * both property sections whole. Both carry the new twin `version`.
 */
export interface TwinChange {
  opType: 'updateTwin' | 'replaceTwin';
  /** The new twin version. */
  version: number;
  /** When the change was made (the event's operationTimestamp), epoch ms. */
  atMs: number;
  body: JsonObject;
}

export interface TwinMutation {
  next: TwinState;
  /** What a connected device must receive when desired changed: a merge patch with `"$version": n`. */
  desiredDelta?: JsonObject;
  change: TwinChange;
}

/** A section patch as parsed: `null` clears the whole section (the SDK e2e "null out all" tests). */
type SectionPatch = JsonObject | null | undefined;

const isEmpty = (patch: SectionPatch) => patch !== undefined && patch !== null && Object.keys(patch).length === 0;

function sectionPatch(section: 'tags' | 'desired', value: unknown): SectionPatch {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const patch = validatedSectionPatch(section, value);
  return isEmpty(patch) ? undefined : patch;
}

function propertiesOf(body: JsonObject): JsonObject | undefined {
  const properties = body.properties;
  if (properties === undefined || properties === null) return undefined;
  if (!isJsonObject(properties)) throw argumentInvalid('properties must be a JSON object');
  return properties;
}

function twinBody(body: unknown, what: string): JsonObject {
  if (!isJsonObject(body)) throw argumentInvalid(`${what} must be a JSON object`);
  return body;
}

/**
 * A device's reported-properties patch. Returns undefined when the patch changes nothing
 * (`{}`, or only the `$version` a device never needs to send).
 */
export function applyReportedPatch(state: TwinState, patch: unknown, nowMs: number): TwinMutation | undefined {
  const validated = validatedSectionPatch('reported', patch);
  if (Object.keys(validated).length === 0) return undefined;
  const reportedVersion = state.reportedVersion + 1;
  const version = state.version + 1;
  const after = mergeSection(
    { doc: state.reported, metadata: state.reportedMetadata },
    validated,
    { lastUpdated: new Date(nowMs).toISOString() },
  );
  checkSectionSize('reported', state.reported, after.doc);
  const next: TwinState = { ...state, reported: after.doc, reportedMetadata: after.metadata, reportedVersion, version };
  const reported = { ...validated, $metadata: metadataOfPatch(after.metadata, validated), $version: reportedVersion };
  return { next, change: { opType: 'updateTwin', version, atMs: nowMs, body: { version, properties: { reported } } } };
}

/**
 * A service PATCH: `{tags?, properties?: {desired?}}` merged into the twin. Other top-level
 * fields (`etag`, `deviceId`, … of a twin read back, or a job's patch) are ignored; touching
 * `properties.reported` is refused, reported properties belong to the device. Returns undefined
 * when the patch changes nothing.
 */
export function applyServicePatch(state: TwinState, body: unknown, nowMs: number): TwinMutation | undefined {
  const fields = twinBody(body, 'The twin patch');
  const properties = propertiesOf(fields);
  if (properties?.reported !== undefined) {
    throw argumentInvalid('properties.reported is read-only for services: only the device updates reported properties');
  }
  const tagsPatch = sectionPatch('tags', fields.tags);
  const desiredPatch = sectionPatch('desired', properties?.desired);
  if (tagsPatch === undefined && desiredPatch === undefined) return undefined;

  const version = state.version + 1;
  const lastUpdated = new Date(nowMs).toISOString();
  let next: TwinState = { ...state, version };
  const changeBody: JsonObject = { version };
  let desiredDelta: JsonObject | undefined;

  if (tagsPatch !== undefined) {
    const tags =
      tagsPatch === null ? {} : mergeSection({ doc: state.tags, metadata: {} }, tagsPatch, { lastUpdated }).doc;
    checkSectionSize('tags', state.tags, tags);
    next = { ...next, tags };
    changeBody.tags = tagsPatch ?? replacementDelta(state.tags, {});
  }
  if (desiredPatch !== undefined) {
    const desiredVersion = state.desiredVersion + 1;
    const stamp = { lastUpdated, version: desiredVersion };
    const after =
      desiredPatch === null
        ? replaceSection({}, stamp)
        : mergeSection({ doc: state.desired, metadata: state.desiredMetadata }, desiredPatch, stamp);
    checkSectionSize('desired', state.desired, after.doc);
    next = { ...next, desired: after.doc, desiredMetadata: after.metadata, desiredVersion };
    const delta = desiredPatch ?? replacementDelta(state.desired, {});
    desiredDelta = { ...delta, $version: desiredVersion };
    changeBody.properties = {
      desired: { ...delta, $metadata: metadataOfPatch(after.metadata, delta), $version: desiredVersion },
    };
  }
  return { next, desiredDelta, change: { opType: 'updateTwin', version, atMs: nowMs, body: changeBody } };
}

/**
 * A service PUT: tags and desired replaced whole by the body's `tags` and `properties.desired`
 * (absent or `null` means empty). `properties.reported` is ignored, so a twin read, edited and
 * sent back whole is accepted. Always a change: both versions are bumped.
 */
export function applyServiceReplace(state: TwinState, body: unknown, nowMs: number): TwinMutation {
  const fields = twinBody(body, 'The twin');
  const properties = propertiesOf(fields);
  const tags = withoutNulls(fields.tags == null ? {} : validatedSectionPatch('tags', fields.tags)) as JsonObject;
  const desiredInput = properties?.desired == null ? {} : validatedSectionPatch('desired', properties.desired);
  checkSectionSize('tags', state.tags, tags);

  const version = state.version + 1;
  const desiredVersion = state.desiredVersion + 1;
  const desired = replaceSection(desiredInput, { lastUpdated: new Date(nowMs).toISOString(), version: desiredVersion });
  checkSectionSize('desired', state.desired, desired.doc);

  const next: TwinState = { ...state, tags, desired: desired.doc, desiredMetadata: desired.metadata, desiredVersion, version };
  const desiredDelta = { ...replacementDelta(state.desired, desired.doc), $version: desiredVersion };
  const changeBody: JsonObject = { version, tags, properties: twinProperties(next) };
  return { next, desiredDelta, change: { opType: 'replaceTwin', version, atMs: nowMs, body: changeBody } };
}
