/**
 * Where an Event Hubs receiver starts (wire digest §9): the `apache.org:selector-filter:string`
 * source filter on its attach, as a core `EventPosition`. Only the selectors the Event Hubs SDKs
 * send are understood; anything else is ArgumentInvalid. Reading from the position is the link's.
 * @module
 */

import { argumentInvalid, type EventPosition } from '@tributary/core';

/** The filter's name in the source filter map, as the SDKs key it. */
export const SELECTOR_FILTER_NAME = 'apache.org:selector-filter:string';
/** The filter's descriptor: Microsoft's domain id 0x0000468C and selector-filter 0x00000004. */
export const SELECTOR_FILTER_DESCRIPTOR = 0x0000468c00000004;

export interface StartPosition {
  /**
   * Where to start, as core reads it (every bound inclusive): an exclusive selector is already
   * turned into the next position, so the caller reads from here and skips nothing. `'end'`
   * means "only events enqueued after the attach": resolve it against the partition head when the
   * link attaches, not at the first read, or events appended in between are lost.
   */
  position: EventPosition;
  /** Whether the selector said `>=` (informational: `position` already accounts for it). */
  isInclusive: boolean;
}

/** No filter: Event Hubs starts at the end of the partition, i.e. only new events. */
export const LATEST: StartPosition = Object.freeze({ position: 'end', isInclusive: false });

// `amqp.annotation.x-opt-offset >= '123'`; the SDKs quote every value, bare ones are tolerated.
const SELECTOR = /^\s*amqp\.annotation\.(x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(>=|>)\s*(?:'([^']*)'|([^\s']+))\s*$/i;
// -1 (the SDKs' "before the first event") or a non-negative integer small enough to be exact.
const POSITION_NUMBER = /^(-1|0|[1-9][0-9]{0,14})$/;

/**
 * The start position named by a receiver's source filter (`link.remote.attach.source.filter`, a
 * map by filter name). The selector may come as a described value (rhea's `Typed`, whose `value`
 * is the selector text) or as a plain string; an entry is a selector when its name is
 * `apache.org:selector-filter:string` or its descriptor is 0x0000468C00000004. Other filters are
 * ignored, as an AMQP peer ignores filters it does not support. No selector: `LATEST`.
 * @example
 * parseSourceFilter({ 'apache.org:selector-filter:string': types.wrap_described("amqp.annotation.x-opt-sequence-number > '5'", 0x468c00000004) })
 * // → { position: { sequenceNumber: 6 }, isInclusive: false }
 */
export function parseSourceFilter(filter: unknown): StartPosition {
  if (filter === undefined || filter === null) return LATEST;
  if (typeof filter !== 'object') throw argumentInvalid('The source filter must be a map of filters');
  const entries = Object.entries(filter as Record<string, unknown>);
  const selector = entries.find(([name]) => name === SELECTOR_FILTER_NAME) ?? entries.find(([, value]) => isSelectorDescribed(value));
  if (selector === undefined) return LATEST;
  const text = selectorText(selector[1]);
  if (text === undefined) throw argumentInvalid(`The ${SELECTOR_FILTER_NAME} filter must hold a string`);
  return parseSelector(text);
}

/**
 * The start position of one selector string:
 * - `amqp.annotation.x-opt-offset > '-1'` → `'start'`; `> '@latest'` → `'end'`;
 *   `>= 'O'` → `{offset: O}`, `> 'O'` → `{offset: O + 1}` (offsets are strictly increasing integers,
 *   so the read starts at the event after O, or at the next one when O falls between events);
 * - `amqp.annotation.x-opt-sequence-number >= 'N'` → `{sequenceNumber: N}`, `> 'N'` → `N + 1`;
 * - `amqp.annotation.x-opt-enqueued-time > 'T'` (epoch ms) → `{enqueuedTime: T + 1}`, `>=` → `T`.
 *   The SDKs only send `>` here, and read literally it excludes events enqueued in the very
 *   millisecond T; Azure's docs describe the position loosely as "at or after", and one
 *   millisecond is within any client's clock error, so the literal reading is kept.
 * Throws ArgumentInvalid for anything else.
 */
export function parseSelector(selector: string): StartPosition {
  const match = SELECTOR.exec(selector);
  if (!match) throw argumentInvalid(`Unsupported selector filter '${clip(selector)}'`);
  const annotation = match[1]!.toLowerCase();
  const isInclusive = match[2] === '>=';
  const value = match[3] ?? match[4]!;

  if (annotation === 'x-opt-offset' && value.toLowerCase() === '@latest') return { position: 'end', isInclusive };
  if (!POSITION_NUMBER.test(value)) throw argumentInvalid(`The selector value '${clip(value)}' is not a valid ${annotation}`);
  const number = Number(value);
  const first = isInclusive ? number : number + 1;

  if (annotation === 'x-opt-offset') {
    // Offset -1 is "before the first event", inclusive or not.
    return { position: number < 0 ? 'start' : { offset: first }, isInclusive };
  }
  if (annotation === 'x-opt-sequence-number') return { position: { sequenceNumber: Math.max(0, first) }, isInclusive };
  if (number < 0) throw argumentInvalid(`The selector value '${value}' is not a valid ${annotation}`);
  return { position: { enqueuedTime: first }, isInclusive };
}

function isSelectorDescribed(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || !('descriptor' in value)) return false;
  const descriptor = unwrapTyped((value as { descriptor: unknown }).descriptor);
  if (typeof descriptor === 'number') return descriptor === SELECTOR_FILTER_DESCRIPTOR;
  if (typeof descriptor === 'string') return descriptor === SELECTOR_FILTER_NAME;
  // rhea keeps a ulong above 2^53 as its 8 raw bytes; this one fits, but accept the bytes too.
  if (descriptor instanceof Uint8Array && descriptor.byteLength === 8) {
    return Buffer.from(descriptor).readBigUInt64BE() === BigInt(SELECTOR_FILTER_DESCRIPTOR);
  }
  return false;
}

function selectorText(value: unknown): string | undefined {
  const unwrapped = unwrapTyped(value);
  return typeof unwrapped === 'string' ? unwrapped : undefined;
}

/** rhea hands described and typed values over as `{type, value, descriptor?}`; plain values pass through. */
function unwrapTyped(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'value' in value && ('type' in value || 'descriptor' in value)) {
    return (value as { value: unknown }).value;
  }
  return value;
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
