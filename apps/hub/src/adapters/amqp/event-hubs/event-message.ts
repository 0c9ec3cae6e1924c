/**
 * An event of the built-in stream as the Event Hub-compatible endpoint delivers it (wire digest
 * §9): the body as one data section, the Event Hubs position annotations, IoT Hub's stamps as
 * message annotations, the device's system properties as AMQP properties, and its application
 * properties as they are. Device-to-hub mapping (what the device sent) is message-mapping.ts's.
 * @module
 */

import type { EventRecord } from '@tributary/core';
import rhea, { type Message } from 'rhea';

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

/**
 * The AMQP message for `event`:
 * - body: one data section with the bytes as stored (the SDK JSON-parses it when it can);
 * - message annotations: `x-opt-sequence-number` (long), `x-opt-offset` (string),
 *   `x-opt-enqueued-time` (timestamp), `iothub-enqueuedtime` (timestamp) and the strings in
 *   `ANNOTATED_STRINGS` that are set; the device and message source fall back to the record's own
 *   fields;
 * - properties: `message_id`, `correlation_id`, `content_type`, `content_encoding`, `to`,
 *   `user_id` (binary, the UTF-8 of the text) and `absolute_expiry_time` (timestamp), when set;
 * - application properties: the event's, unchanged (enrichments included), `{}` when none.
 */
export function eventMessage(event: EventRecord): Message {
  const system = event.systemProperties as Readonly<Record<string, string | undefined>>;
  const message: Message = {
    message_annotations: annotations(event, system),
    // Always present, even empty, so consumers can read `event.properties.x` without a guard.
    application_properties: { ...event.applicationProperties },
    body: rhea.message.data_section(Buffer.from(event.body.buffer, event.body.byteOffset, event.body.byteLength)),
  };

  const messageId = system['message-id'];
  if (messageId !== undefined) message.message_id = messageId;
  const correlationId = system['correlation-id'];
  if (correlationId !== undefined) message.correlation_id = correlationId;
  const contentType = system['content-type'];
  if (contentType !== undefined) message.content_type = contentType;
  const contentEncoding = system['content-encoding'];
  if (contentEncoding !== undefined) message.content_encoding = contentEncoding;
  const to = system.to;
  if (to !== undefined) message.to = to;
  const userId = system['user-id'];
  // AMQP user-id is binary (rhea's typings say string): send the bytes of the text.
  if (userId !== undefined) Object.assign(message, { user_id: Buffer.from(userId, 'utf8') });
  const expiry = timeOf(system['absolute-expiry-time']);
  if (expiry !== undefined) message.absolute_expiry_time = expiry;
  return message;
}

function annotations(event: EventRecord, system: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const result: Record<string, unknown> = {
    'x-opt-sequence-number': rhea.types.wrap_long(event.sequenceNumber),
    'x-opt-offset': String(event.offset),
    'x-opt-enqueued-time': new Date(event.enqueuedTime),
  };
  for (const name of ANNOTATED_STRINGS) {
    const value = system[name];
    if (value !== undefined) result[name] = value;
  }
  result['iothub-connection-device-id'] ??= event.deviceId;
  if (event.moduleId !== null) result['iothub-connection-module-id'] ??= event.moduleId;
  result['iothub-message-source'] ??= event.messageSource;
  result['iothub-enqueuedtime'] = timeOf(system['iothub-enqueuedtime']) ?? new Date(event.enqueuedTime);
  return result;
}

/** An ISO-8601 system property as a Date, or undefined when absent or unparseable. */
function timeOf(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}
