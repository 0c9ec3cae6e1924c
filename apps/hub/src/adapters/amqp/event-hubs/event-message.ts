/**
 * An event of the built-in stream as the Event Hub-compatible endpoint delivers it (wire digest
 * §9): the body as one data section, the Event Hubs position annotations, IoT Hub's stamps as
 * message annotations, the device's system properties as AMQP properties, and its application
 * properties as they are. Encoded straight to bytes (amqp-writer.ts), byte for byte what rhea
 * would encode for the same message, without building rhea's typed object tree for every event.
 * Device-to-hub mapping (what the device sent) is message-mapping.ts's.
 * @module
 */

import type { EventRecord } from '@tributary/core';
import { AmqpWriter, encodeOnce } from './amqp-writer.ts';

/** Section descriptors (AMQP 1.0 part 3, §3.2). */
const Section = { header: 0x70, messageAnnotations: 0x72, properties: 0x73, applicationProperties: 0x74, data: 0x75 } as const;

/**
 * System properties that travel as message annotations, in IoT Hub's names. The SDKs put every
 * annotation other than the `x-opt-*` positions into `EventData.systemProperties`.
 */
const ANNOTATED_STRINGS = [
  'iothub-connection-device-id',
  'iothub-connection-module-id',
  'iothub-connection-auth-method',
  'iothub-connection-auth-generation-id',
  'iothub-message-source',
  'iothub-interface-id',
  'dt-subject',
  'dt-dataschema',
] as const;

type SystemValues = Readonly<Record<string, string | null | undefined>>;

/** Annotation names as symbols, encoded once. */
const SYMBOLS: Readonly<Record<string, Buffer>> = Object.fromEntries(
  ['x-opt-sequence-number', 'x-opt-offset', 'x-opt-enqueued-time', ...ANNOTATED_STRINGS, 'iothub-enqueuedtime'].map((name) => [
    name,
    encodeOnce((writer) => writer.symbol(name)),
  ]),
);

/** One writer for every link: encoding is synchronous, and each message gets its own view of the slab. */
const writer = new AmqpWriter();

/**
 * The AMQP message for `event`, encoded as a bare message (to send with message format 0):
 * - header: empty;
 * - message annotations: `x-opt-sequence-number` (long), `x-opt-offset` (string),
 *   `x-opt-enqueued-time` (timestamp), the strings in `ANNOTATED_STRINGS` that are set (the
 *   device and message source fall back to the record's own fields, and so does the module when
 *   the record has one), then `iothub-enqueuedtime` (timestamp);
 * - properties: `message_id`, `user_id` (binary, the UTF-8 of the text), `to`, `correlation_id`,
 *   `content_type`, `content_encoding` (symbols) and `absolute_expiry_time` (timestamp), when set;
 * - application properties: the event's, unchanged (enrichments included), `{}` when none;
 * - body: one data section with the bytes as stored (the SDK JSON-parses it when it can).
 */
export function encodeEventMessage(event: EventRecord): Buffer {
  const system = event.systemProperties as SystemValues;
  writer.start();
  writer.descriptor(Section.header);
  writer.emptyList();
  writeAnnotations(event, system);
  writeProperties(system);
  writeApplicationProperties(event.applicationProperties);
  writer.descriptor(Section.data);
  writer.binary(event.body);
  return writer.finish();
}

function writeAnnotations(event: EventRecord, system: SystemValues): void {
  const fallbacks: Readonly<Record<string, string | null>> = {
    'iothub-connection-device-id': event.deviceId,
    'iothub-connection-module-id': event.moduleId,
    'iothub-message-source': event.messageSource,
  };
  writer.descriptor(Section.messageAnnotations);
  const map = writer.openMap();
  writer.encoded(SYMBOLS['x-opt-sequence-number']!);
  writer.long(event.sequenceNumber);
  writer.encoded(SYMBOLS['x-opt-offset']!);
  writer.string(String(event.offset));
  writer.encoded(SYMBOLS['x-opt-enqueued-time']!);
  writer.timestamp(event.enqueuedTime);
  let entries = 3;
  for (const name of ANNOTATED_STRINGS) {
    const value = system[name];
    if (value === undefined) continue;
    writer.encoded(SYMBOLS[name]!);
    writeStringOrNull(value ?? fallbacks[name] ?? null);
    entries += 1;
  }
  for (const name in fallbacks) {
    const fallback = fallbacks[name];
    if (system[name] !== undefined || fallback === null) continue;
    writer.encoded(SYMBOLS[name]!);
    writer.string(fallback!);
    entries += 1;
  }
  writer.encoded(SYMBOLS['iothub-enqueuedtime']!);
  writer.timestamp(timeOf(system['iothub-enqueuedtime']) ?? event.enqueuedTime);
  writer.close(map, 2 * (entries + 1));
}

type PropertyKind = 'string' | 'binary' | 'symbol' | 'timestamp';

/**
 * The properties list (§3.2.4) in field order, each as the system property it comes from and its
 * type; null where IoT Hub has no counterpart (subject, reply-to).
 */
const PROPERTY_FIELDS: ReadonlyArray<readonly [name: string, kind: PropertyKind] | null> = [
  ['message-id', 'string'],
  ['user-id', 'binary'],
  ['to', 'string'],
  null,
  null,
  ['correlation-id', 'string'],
  ['content-type', 'symbol'],
  ['content-encoding', 'symbol'],
  ['absolute-expiry-time', 'timestamp'],
];

/** The properties list up to its last field that is set, with null in the gaps; list0 when none is. */
function writeProperties(system: SystemValues): void {
  const valueOf = (field: (typeof PROPERTY_FIELDS)[number]) => {
    if (field === null) return undefined;
    const value = system[field[0]];
    // An expiry that is not a time is left out rather than sent as null.
    return field[1] === 'timestamp' ? timeOf(value) : value;
  };
  let count = PROPERTY_FIELDS.length;
  while (count > 0 && valueOf(PROPERTY_FIELDS[count - 1]!) === undefined) count -= 1;
  writer.descriptor(Section.properties);
  if (count === 0) return writer.emptyList();
  const list = writer.openList();
  for (let i = 0; i < count; i++) {
    const field = PROPERTY_FIELDS[i]!;
    const value = valueOf(field);
    if (value === undefined || value === null) writer.null();
    else if (typeof value === 'number') writer.timestamp(value);
    else if (field![1] === 'binary') writer.binary(Buffer.from(value, 'utf8'));
    else if (field![1] === 'symbol') writer.symbol(value);
    else writer.string(value);
  }
  writer.close(list, count);
}

function writeApplicationProperties(properties: Readonly<Record<string, string>>): void {
  writer.descriptor(Section.applicationProperties);
  const map = writer.openMap();
  let items = 0;
  for (const name in properties) {
    writer.string(name);
    writeStringOrNull(properties[name]!);
    items += 2;
  }
  writer.close(map, items);
}

function writeStringOrNull(value: string | null): void {
  if (value === null) writer.null();
  else writer.string(value);
}

/** An ISO-8601 system property as epoch ms, or undefined when absent or unparseable. */
function timeOf(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
