import { describe, expect, test } from 'bun:test';
import { HubError, type PartitionProperties } from '@tributary/core';
import rhea, { type Message } from 'rhea';
import {
  hubProperties,
  managementErrorResponse,
  managementResponse,
  parseManagementRequest,
  partitionProperties,
} from './management.ts';

/** Encodes with rhea and decodes again: what the SDK's receiver gets. */
const roundTrip = (message: Message): Message => rhea.message.decode(rhea.message.encode(message)) as unknown as Message;

interface TypedValue {
  type: { name: string };
  value: unknown;
  descriptor?: { value: unknown };
}
const codec = rhea.types as unknown as { Reader: new (buffer: Buffer) => { read(): TypedValue; remaining(): number } };

/** The AMQP type rhea put on the wire for each key of the section with `descriptor` (0x74 application properties, 0x77 value). */
function wireTypes(message: Message, descriptor: number): Record<string, string> {
  const reader = new codec.Reader(rhea.message.encode(message));
  while (reader.remaining() > 0) {
    const section = reader.read();
    if (section.descriptor?.value !== descriptor) continue;
    const items = section.value as TypedValue[];
    const types: Record<string, string> = {};
    for (let i = 0; i < items.length; i += 2) types[String(items[i]!.value)] = items[i + 1]!.type.name;
    return types;
  }
  throw new Error(`no section 0x${descriptor.toString(16)}`);
}

/** A request exactly as @azure/event-hubs' ManagementClient builds it (managementClient.js). */
function sdkRequest(type: 'eventhub' | 'partition', extra: Record<string, unknown> = {}): Message {
  return roundTrip({
    body: Buffer.from(JSON.stringify([])),
    message_id: 'a1b2c3',
    reply_to: 'mgmt-reply-1',
    application_properties: {
      operation: 'READ',
      name: 'myhub',
      type: `com.microsoft:${type}`,
      security_token: 'SharedAccessSignature sr=x&sig=y&se=1&skn=service',
      ...extra,
    },
  });
}

function thrown(fn: () => unknown): HubError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    return error as HubError;
  }
  throw new Error('expected the call to throw');
}

const PARTITION: PartitionProperties = {
  partitionId: 2,
  beginningSequenceNumber: 3,
  lastEnqueuedSequenceNumber: 5_000_000_000,
  lastEnqueuedOffset: 1234,
  lastEnqueuedTime: 1_795_346_439_730,
  isEmpty: false,
};

describe('parsing $management requests', () => {
  test('a hub properties request from the SDK parses with its id, reply address and token', () => {
    expect(parseManagementRequest(sdkRequest('eventhub'))).toEqual({
      type: 'eventhub',
      messageId: 'a1b2c3',
      replyTo: 'mgmt-reply-1',
      name: 'myhub',
      securityToken: 'SharedAccessSignature sr=x&sig=y&se=1&skn=service',
    });
  });

  test('a partition properties request parses its partition id', () => {
    expect(parseManagementRequest(sdkRequest('partition', { partition: '3' }))).toMatchObject({ type: 'partition', partitionId: 3 });
  });

  test('a request without a security token parses without one', () => {
    const request = sdkRequest('eventhub', { security_token: undefined });
    expect(parseManagementRequest(request)).not.toHaveProperty('securityToken');
  });

  test('an operation other than READ is InvalidOperation', () => {
    expect(thrown(() => parseManagementRequest(sdkRequest('eventhub', { operation: 'DELETE' }))).code).toBe('InvalidOperation');
  });

  test('an unknown type is InvalidOperation', () => {
    expect(thrown(() => parseManagementRequest(sdkRequest('eventhub', { type: 'com.microsoft:consumergroup' }))).code).toBe('InvalidOperation');
  });

  test('a partition request without a valid partition id is ArgumentInvalid', () => {
    for (const partition of [undefined, '', 'x', '-1', '01', 1.5]) {
      expect(thrown(() => parseManagementRequest(sdkRequest('partition', { partition }))).code).toBe('ArgumentInvalid');
    }
  });

  test('a request without message_id, name or application properties is ArgumentInvalid', () => {
    expect(thrown(() => parseManagementRequest({ ...sdkRequest('eventhub'), message_id: undefined })).code).toBe('ArgumentInvalid');
    expect(thrown(() => parseManagementRequest(sdkRequest('eventhub', { name: undefined }))).code).toBe('ArgumentInvalid');
    expect(thrown(() => parseManagementRequest({ body: null })).code).toBe('ArgumentInvalid');
  });
});

describe('$management responses', () => {
  test('hub properties decode to the values the SDK reads', () => {
    const response = roundTrip(managementResponse('a1b2c3', hubProperties({ name: 'myhub', createdAtMs: 1_700_000_000_000, partitionIds: [0, 1, 2, 3] })));
    expect(response.correlation_id).toBe('a1b2c3');
    expect(response.application_properties).toEqual({ 'status-code': 200, 'status-description': 'OK' });
    expect(response.body).toEqual({
      name: 'myhub',
      created_at: new Date(1_700_000_000_000),
      partition_count: 4,
      partition_ids: ['0', '1', '2', '3'],
    });
  });

  test('hub properties go out as an AMQP value with int count, timestamp and a string array', () => {
    const response = managementResponse('id', hubProperties({ name: 'myhub', createdAtMs: 1, partitionIds: ['0', '1'] }));
    expect(wireTypes(response, 0x77)).toEqual({ name: 'Str8', created_at: 'Timestamp', partition_count: 'SmallInt', partition_ids: 'Array32' });
    expect(wireTypes(response, 0x74)).toEqual({ 'status-code': 'Int', 'status-description': 'Str8' });
  });

  test('partition properties decode to numbers, an offset string and a Date', () => {
    const response = roundTrip(managementResponse('id', partitionProperties('myhub', PARTITION)));
    expect(response.body).toEqual({
      name: 'myhub',
      partition: '2',
      begin_sequence_number: 3,
      last_enqueued_sequence_number: 5_000_000_000,
      last_enqueued_offset: '1234',
      last_enqueued_time_utc: new Date(1_795_346_439_730),
      is_partition_empty: false,
    });
  });

  test('sequence numbers go out as AMQP longs, even small and negative ones', () => {
    const empty: PartitionProperties = { partitionId: 0, beginningSequenceNumber: -1, lastEnqueuedSequenceNumber: -1, lastEnqueuedOffset: -1, lastEnqueuedTime: null, isEmpty: true };
    const types = wireTypes(managementResponse('id', partitionProperties('myhub', empty)), 0x77);
    expect(types).toMatchObject({ begin_sequence_number: 'SmallLong', last_enqueued_sequence_number: 'SmallLong', last_enqueued_offset: 'Str8', last_enqueued_time_utc: 'Timestamp', is_partition_empty: 'True' });
    expect(wireTypes(managementResponse('id', partitionProperties('myhub', PARTITION)), 0x77).last_enqueued_sequence_number).toBe('Long');
  });

  test('a never-used partition reports -1 positions, offset "-1" and time 0', () => {
    const empty: PartitionProperties = { partitionId: 1, beginningSequenceNumber: -1, lastEnqueuedSequenceNumber: -1, lastEnqueuedOffset: -1, lastEnqueuedTime: null, isEmpty: true };
    expect(roundTrip(managementResponse('id', partitionProperties('myhub', empty))).body).toEqual({
      name: 'myhub',
      partition: '1',
      begin_sequence_number: -1,
      last_enqueued_sequence_number: -1,
      last_enqueued_offset: '-1',
      last_enqueued_time_utc: new Date(0),
      is_partition_empty: true,
    });
  });

  test('a binary request id is echoed as the correlation id', () => {
    const id = Buffer.from('0123456789abcdef');
    expect(roundTrip(managementResponse(id, {})).correlation_id).toEqual(id);
  });

  test('an error response carries an int status, the description and the condition', () => {
    const response = managementErrorResponse('a1', { status: 404, description: 'Partition 9 does not exist', condition: 'amqp:not-found' });
    expect(roundTrip(response)).toMatchObject({
      correlation_id: 'a1',
      application_properties: { 'status-code': 404, 'status-description': 'Partition 9 does not exist', 'error-condition': 'amqp:not-found' },
    });
    expect(wireTypes(response, 0x74)['status-code']).toBe('Int');
  });
});
