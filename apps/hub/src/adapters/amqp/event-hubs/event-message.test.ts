import { describe, expect, test } from 'bun:test';
import { dirname, join } from 'node:path';
import type { EventRecord } from '@tributary/core';
import rhea, { type Message } from 'rhea';
import { eventMessage } from './event-message.ts';

const ENQUEUED = 1_795_346_439_730;
const AUTH_METHOD = '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}';

function record(overrides: Partial<EventRecord> = {}): EventRecord {
  return {
    partitionId: 1,
    sequenceNumber: 42,
    offset: 1024,
    enqueuedTime: ENQUEUED,
    deviceId: 'dev1',
    moduleId: null,
    messageSource: 'Telemetry',
    systemProperties: {
      'message-id': 'msg-1',
      'correlation-id': 'corr-1',
      'content-type': 'application/json',
      'content-encoding': 'utf-8',
      'user-id': 'user-7',
      to: '/devices/dev1/messages/events',
      'absolute-expiry-time': '2026-11-22T10:00:00.000Z',
      'iothub-interface-id': 'urn:example:1',
      'dt-subject': 'thermostat1',
      'iothub-connection-device-id': 'dev1',
      'iothub-connection-auth-method': AUTH_METHOD,
      'iothub-connection-auth-generation-id': '638000000000000000',
      'iothub-enqueuedtime': new Date(ENQUEUED).toISOString(),
      'iothub-message-source': 'Telemetry',
      ...({ 'dt-dataschema': 'dtmi:example:Thermostat;1' } as object),
    },
    applicationProperties: { alert: 'high', 'temp-unit': 'C' },
    body: new TextEncoder().encode('{"temperature":21.5}'),
    ...overrides,
  };
}

/** What the consumer's receiver gets: our message encoded and decoded by rhea. */
const received = (event: EventRecord): Message => rhea.message.decode(rhea.message.encode(eventMessage(event))) as unknown as Message;

interface TypedValue {
  type: { name: string };
  value: unknown;
  descriptor?: { value: unknown };
}
const codec = rhea.types as unknown as { Reader: new (buffer: Buffer) => { read(): TypedValue; remaining(): number } };

/** The AMQP type name and the descriptor of every section rhea put on the wire, and the types inside the annotations. */
function wire(message: Message): { sections: Record<string, string>; annotations: Record<string, string> } {
  const reader = new codec.Reader(rhea.message.encode(message));
  const sections: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  while (reader.remaining() > 0) {
    const section = reader.read();
    const code = Number(section.descriptor?.value);
    sections[`0x${code.toString(16)}`] = section.type.name;
    if (code === 0x72) {
      const items = section.value as TypedValue[];
      for (let i = 0; i < items.length; i += 2) annotations[String(items[i]!.value)] = items[i + 1]!.type.name;
    }
  }
  return { sections, annotations };
}

/** @azure/event-hubs' own AMQP → EventData conversion (internal module eventData.js). */
async function sdkFromRheaMessage(): Promise<(message: Message, skipParsingBodyAsJson?: boolean) => Record<string, unknown>> {
  const entry = Bun.resolveSync('@azure/event-hubs', import.meta.dir);
  return (await import(join(dirname(entry), 'eventData.js'))).fromRheaMessage;
}

describe('the AMQP message of an event', () => {
  test('the body goes out as a data section with the stored bytes', () => {
    const message = received(record({ body: new Uint8Array([0, 1, 2, 255]) }));
    expect(message.body.typecode).toBe(0x75);
    expect(message.body.content).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(wire(eventMessage(record())).sections['0x75']).toBe('Vbin8');
  });

  test('a body that is a view into a larger buffer sends only its own bytes', () => {
    const backing = new TextEncoder().encode('xxhelloxx');
    expect(received(record({ body: backing.subarray(2, 7) })).body.content).toEqual(Buffer.from('hello'));
  });

  test('the position annotations decode to a number, a string and a Date', () => {
    expect(received(record()).message_annotations).toMatchObject({
      'x-opt-sequence-number': 42,
      'x-opt-offset': '1024',
      'x-opt-enqueued-time': new Date(ENQUEUED),
    });
  });

  test('the sequence number is an AMQP long and the times are timestamps, whatever the value', () => {
    for (const sequenceNumber of [0, 42, 5_000_000_000]) {
      const { annotations } = wire(eventMessage(record({ sequenceNumber })));
      expect(annotations['x-opt-sequence-number']).toMatch(/^(SmallLong|Long)$/);
      expect(annotations['x-opt-offset']).toBe('Str8');
      expect(annotations['x-opt-enqueued-time']).toBe('Timestamp');
      expect(annotations['iothub-enqueuedtime']).toBe('Timestamp');
    }
  });

  test("IoT Hub's stamps travel as annotations", () => {
    expect(received(record()).message_annotations).toEqual({
      'x-opt-sequence-number': 42,
      'x-opt-offset': '1024',
      'x-opt-enqueued-time': new Date(ENQUEUED),
      'iothub-connection-device-id': 'dev1',
      'iothub-connection-auth-method': AUTH_METHOD,
      'iothub-connection-auth-generation-id': '638000000000000000',
      'iothub-message-source': 'Telemetry',
      'iothub-interface-id': 'urn:example:1',
      'dt-subject': 'thermostat1',
      'dt-dataschema': 'dtmi:example:Thermostat;1',
      'iothub-enqueuedtime': new Date(ENQUEUED),
    });
  });

  test('a module event carries its module id', () => {
    const event = record({ moduleId: 'mod1' });
    expect(received(event).message_annotations!['iothub-connection-module-id']).toBe('mod1');
  });

  test('an event without stamps still names its device, source and enqueued time', () => {
    const event = record({ systemProperties: {}, deviceId: 'dev9', moduleId: 'm2', messageSource: 'twinChangeEvents' });
    expect(received(event).message_annotations).toEqual({
      'x-opt-sequence-number': 42,
      'x-opt-offset': '1024',
      'x-opt-enqueued-time': new Date(ENQUEUED),
      'iothub-connection-device-id': 'dev9',
      'iothub-connection-module-id': 'm2',
      'iothub-message-source': 'twinChangeEvents',
      'iothub-enqueuedtime': new Date(ENQUEUED),
    });
  });

  test("the device's system properties become AMQP properties", () => {
    const message = received(record());
    expect(message).toMatchObject({
      message_id: 'msg-1',
      correlation_id: 'corr-1',
      content_type: 'application/json',
      content_encoding: 'utf-8',
      to: '/devices/dev1/messages/events',
      user_id: Buffer.from('user-7'),
      absolute_expiry_time: new Date('2026-11-22T10:00:00.000Z'),
    });
  });

  test('absent system properties leave the AMQP properties out, and application properties are {}', () => {
    const message = received(record({ systemProperties: {}, applicationProperties: {} }));
    for (const name of ['message_id', 'correlation_id', 'content_type', 'content_encoding', 'to', 'user_id', 'absolute_expiry_time']) {
      expect(message).not.toHaveProperty(name);
    }
    expect(message.application_properties).toEqual({});
  });

  test('application properties pass through unchanged', () => {
    expect(received(record()).application_properties).toEqual({ alert: 'high', 'temp-unit': 'C' });
  });
});

describe('what @azure/event-hubs makes of it', () => {
  test('the SDK sees the JSON body parsed, positions, properties and IoT stamps in systemProperties', async () => {
    const fromRheaMessage = await sdkFromRheaMessage();
    const data = fromRheaMessage(received(record()));
    expect(data.body).toEqual({ temperature: 21.5 });
    expect(data.sequenceNumber).toBe(42);
    expect(data.offset).toBe('1024');
    expect(data.enqueuedTimeUtc).toEqual(new Date(ENQUEUED));
    expect(data.messageId).toBe('msg-1');
    expect(data.correlationId).toBe('corr-1');
    expect(data.contentType).toBe('application/json');
    expect(data.properties).toEqual({ alert: 'high', 'temp-unit': 'C' });
    expect(data.systemProperties).toEqual({
      'iothub-connection-device-id': 'dev1',
      'iothub-connection-auth-method': AUTH_METHOD,
      'iothub-connection-auth-generation-id': '638000000000000000',
      'iothub-message-source': 'Telemetry',
      'iothub-interface-id': 'urn:example:1',
      'dt-subject': 'thermostat1',
      'dt-dataschema': 'dtmi:example:Thermostat;1',
      // The SDK turns annotation and property Dates into epoch ms.
      'iothub-enqueuedtime': ENQUEUED,
      messageId: 'msg-1',
      correlationId: 'corr-1',
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      to: '/devices/dev1/messages/events',
      // convertDatesToNumbers spreads every object it meets, so the binary user_id arrives as {0: 117, …}.
      userId: { ...Buffer.from('user-7') },
      absoluteExpiryTime: Date.parse('2026-11-22T10:00:00.000Z'),
    });
  });

  test('the SDK keeps a non-JSON body as a Buffer of the same length', async () => {
    const fromRheaMessage = await sdkFromRheaMessage();
    const bytes = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00]);
    const data = fromRheaMessage(received(record({ body: bytes })));
    expect(Buffer.isBuffer(data.body)).toBe(true);
    expect(data.body).toEqual(Buffer.from(bytes));
  });

  test('the SDK sees the raw AMQP message as a data body', async () => {
    const fromRheaMessage = await sdkFromRheaMessage();
    const data = fromRheaMessage(received(record()), true) as { body: unknown; getRawAmqpMessage(): { bodyType: string } };
    expect(data.getRawAmqpMessage().bodyType).toBe('data');
    expect(data.body).toEqual(Buffer.from('{"temperature":21.5}'));
  });
});
