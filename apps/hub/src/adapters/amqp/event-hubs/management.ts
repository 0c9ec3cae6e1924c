/**
 * The Event Hubs `$management` request/response shapes (wire digest §9 step 4): parsing a READ
 * request for the hub or a partition, and building the AMQP-value map replies with the AMQP types
 * the SDKs expect. Verifying `security_token`, reading partition heads and sending are the link
 * handler's; the AMQP error condition of a failed request comes from the adapter's error mapper.
 * @module
 */

import { argumentInvalid, invalidOperation, type PartitionProperties } from '@tributary/core';
import rhea, { type Message } from 'rhea';

const EVENT_HUB_TYPE = 'com.microsoft:eventhub';
const PARTITION_TYPE = 'com.microsoft:partition';
const PARTITION_ID = /^(0|[1-9][0-9]{0,5})$/;
// AMQP array element constructors: str8-utf8 and str32-utf8.
const STR8 = 0xa1;
const STR32 = 0xb1;

/** An AMQP message id as rhea hands it over (string, ulong number, or uuid/binary bytes). */
export type MessageId = NonNullable<Message['message_id']>;

/** A request as the SDK's ManagementClient sends it (`getEventHubProperties`, `getPartitionProperties`). */
export type ManagementRequest =
  | { type: 'eventhub'; messageId: MessageId; replyTo?: string; name: string; securityToken?: string }
  | { type: 'partition'; messageId: MessageId; replyTo?: string; name: string; partitionId: number; securityToken?: string };

/** The `com.microsoft:eventhub` READ response body, before AMQP typing. */
export interface HubPropertiesInput {
  name: string;
  createdAtMs: number;
  partitionIds: readonly (string | number)[];
}

/**
 * Parses a `$management` request: application properties `operation=READ`,
 * `type=com.microsoft:eventhub|com.microsoft:partition`, `name` (the entity; the caller compares it
 * with its own, case-insensitively), `partition` for a partition, and `security_token` (optional
 * here; the caller verifies it for `sb://host/{name}` when present). The body is ignored (the SDK
 * sends `[]`). Throws ArgumentInvalid for a missing or ill-typed field and InvalidOperation for an
 * operation or type other than those.
 */
export function parseManagementRequest(message: Message): ManagementRequest {
  const messageId = message.message_id;
  if (messageId === undefined || messageId === null) throw argumentInvalid('The management request has no message_id to correlate the reply with');
  const properties = message.application_properties;
  if (typeof properties !== 'object' || properties === null) throw argumentInvalid('The management request has no application properties');
  const fields = properties as Record<string, unknown>;

  const operation = stringField(fields, 'operation');
  if (operation.toUpperCase() !== 'READ') throw invalidOperation(`Management operation '${clip(operation)}' is not supported; only READ is`);
  const type = stringField(fields, 'type').toLowerCase();
  const name = stringField(fields, 'name');
  const securityToken = optionalString(fields, 'security_token');
  const common = {
    messageId,
    name,
    ...(typeof message.reply_to === 'string' ? { replyTo: message.reply_to } : {}),
    ...(securityToken !== undefined ? { securityToken } : {}),
  };
  if (type === EVENT_HUB_TYPE) return { type: 'eventhub', ...common };
  if (type === PARTITION_TYPE) return { type: 'partition', ...common, partitionId: partitionIdField(fields) };
  throw invalidOperation(`Management type '${clip(type)}' is not supported; use ${EVENT_HUB_TYPE} or ${PARTITION_TYPE}`);
}

/**
 * The `com.microsoft:eventhub` body: `{name, created_at: timestamp, partition_count: int,
 * partition_ids: array of string}`. `partition_ids` is an AMQP array (not a list) because the .NET
 * SDK casts it to `string[]`; the JS SDK reads either.
 */
export function hubProperties(input: HubPropertiesInput): Record<string, unknown> {
  const ids = input.partitionIds.map(String);
  const fitsStr8 = ids.every((id) => Buffer.byteLength(id) <= 255);
  return {
    name: input.name,
    created_at: new Date(input.createdAtMs),
    partition_count: rhea.types.wrap_int(ids.length),
    partition_ids: rhea.types.wrap_array(ids, fitsStr8 ? STR8 : STR32, undefined),
  };
}

/**
 * The `com.microsoft:partition` body: `{name, partition, begin_sequence_number: long,
 * last_enqueued_sequence_number: long, last_enqueued_offset: string, last_enqueued_time_utc:
 * timestamp, is_partition_empty}`. A partition that never had an event reports time 0 (epoch):
 * the field must be a timestamp for the SDKs, and core has none to give.
 */
export function partitionProperties(name: string, partition: PartitionProperties): Record<string, unknown> {
  return {
    name,
    partition: String(partition.partitionId),
    begin_sequence_number: rhea.types.wrap_long(partition.beginningSequenceNumber),
    last_enqueued_sequence_number: rhea.types.wrap_long(partition.lastEnqueuedSequenceNumber),
    last_enqueued_offset: String(partition.lastEnqueuedOffset),
    last_enqueued_time_utc: new Date(partition.lastEnqueuedTime ?? 0),
    is_partition_empty: partition.isEmpty,
  };
}

/**
 * A successful reply: `correlation_id` = the request's `message_id`, `status-code` 200 as an AMQP
 * int (the SDKs accept 200–299; an untyped JS 200 would go out as a uint) and the body as an
 * AMQP value (a plain object body is encoded by rhea as an amqp-value map, never a data section).
 */
export function managementResponse(requestMessageId: MessageId, body: Record<string, unknown>): Message {
  return {
    correlation_id: requestMessageId,
    application_properties: { 'status-code': rhea.types.wrap_int(200), 'status-description': 'OK' },
    body,
  };
}

/**
 * A failed reply: `status-code` (int), `status-description`, and `error-condition` when given
 * (@azure/core-amqp turns the condition, or failing that the status, into its error class).
 * Pass `error.status` and `error.message` of a HubError, and the condition from the AMQP error
 * mapper.
 */
export function managementErrorResponse(
  requestMessageId: MessageId,
  failure: { status: number; description: string; condition?: string },
): Message {
  const properties: Record<string, unknown> = {
    'status-code': rhea.types.wrap_int(failure.status),
    'status-description': failure.description,
  };
  if (failure.condition !== undefined) properties['error-condition'] = failure.condition;
  return { correlation_id: requestMessageId, application_properties: properties, body: null };
}

function stringField(fields: Record<string, unknown>, name: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || value === '') throw argumentInvalid(`The management request's '${name}' property must be a non-empty string`);
  return value;
}

function optionalString(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw argumentInvalid(`The management request's '${name}' property must be a string`);
  return value;
}

// The SDK sends the partition id as a string; a number is accepted too.
function partitionIdField(fields: Record<string, unknown>): number {
  const value = fields.partition;
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !PARTITION_ID.test(text)) {
    throw argumentInvalid(`The management request's 'partition' property must be a partition id such as '0'`);
  }
  return Number(text);
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
