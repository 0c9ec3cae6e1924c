import { describe, expect, test } from 'bun:test';
import { dirname, join } from 'node:path';
import type { EventRecord } from '@tributary/core';
import rhea, { type Message } from 'rhea';
import { encodeEventMessage } from './event-message.ts';

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

/** What the consumer's receiver gets: our bytes decoded by rhea. */
const received = (event: EventRecord): Message => rhea.message.decode(encodeEventMessage(event)) as unknown as Message;

interface TypedValue {
  type: { name: string };
  value: unknown;
  descriptor?: { value: unknown };
}
const codec = rhea.types as unknown as { Reader: new (buffer: Buffer) => { read(): TypedValue; remaining(): number } };

/** The AMQP type name and the descriptor of every section on the wire, and the types inside the annotations. */
function wire(bytes: Buffer): { sections: Record<string, string>; annotations: Record<string, string> } {
  const reader = new codec.Reader(bytes);
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

/**
 * The message as the hub built it for rhea to encode before it wrote the bytes itself: the oracle
 * for the encoder, which must produce exactly rhea's bytes.
 */
function rheaEncoded(event: EventRecord): Buffer {
  const system = event.systemProperties as Record<string, string | null | undefined>;
  const annotations: Record<string, unknown> = {
    'x-opt-sequence-number': rhea.types.wrap_long(event.sequenceNumber),
    'x-opt-offset': String(event.offset),
    'x-opt-enqueued-time': new Date(event.enqueuedTime),
  };
  const annotated = ['iothub-connection-device-id', 'iothub-connection-module-id', 'iothub-connection-auth-method', 'iothub-connection-auth-generation-id', 'iothub-message-source', 'iothub-interface-id', 'dt-subject', 'dt-dataschema'];
  for (const name of annotated) if (system[name] !== undefined) annotations[name] = system[name];
  annotations['iothub-connection-device-id'] ??= event.deviceId;
  if (event.moduleId !== null) annotations['iothub-connection-module-id'] ??= event.moduleId;
  annotations['iothub-message-source'] ??= event.messageSource;
  const timeOf = (text: string | null | undefined) => (typeof text === 'string' && !Number.isNaN(Date.parse(text)) ? new Date(Date.parse(text)) : undefined);
  annotations['iothub-enqueuedtime'] = timeOf(system['iothub-enqueuedtime']) ?? new Date(event.enqueuedTime);
  const message: Record<string, unknown> = {
    message_annotations: annotations,
    application_properties: { ...event.applicationProperties },
    body: rhea.message.data_section(Buffer.from(event.body)),
  };
  const properties = { message_id: 'message-id', to: 'to', correlation_id: 'correlation-id', content_type: 'content-type', content_encoding: 'content-encoding' };
  for (const [field, name] of Object.entries(properties)) if (system[name] !== undefined) message[field] = system[name];
  if (typeof system['user-id'] === 'string') message.user_id = Buffer.from(system['user-id'], 'utf8');
  const expiry = timeOf(system['absolute-expiry-time']);
  if (expiry !== undefined) message.absolute_expiry_time = expiry;
  return rhea.message.encode(message as unknown as Message);
}

describe('the encoding', () => {
  const long = 'é'.repeat(200);
  const cases: Record<string, EventRecord> = {
    'an event with every property': record(),
    'an event without stamps or properties': record({ systemProperties: {}, applicationProperties: {} }),
    'a module event without a module stamp': record({ moduleId: 'mod1', systemProperties: { 'iothub-connection-device-id': 'dev1' } }),
    'an empty body': record({ body: new Uint8Array() }),
    'a binary body of 255 bytes': record({ body: Uint8Array.from({ length: 255 }, (_, i) => 255 - i) }),
    'a binary body of 256 bytes (vbin32)': record({ body: Uint8Array.from({ length: 256 }, (_, i) => i) }),
    'a large body': record({ body: new Uint8Array(200_000).fill(0x7b) }),
    'a body that views a larger buffer': record({ body: new TextEncoder().encode('xxhelloxx').subarray(2, 7) }),
    'strings over 255 UTF-8 bytes (str32, sym32)': record({
      deviceId: long,
      systemProperties: { 'message-id': long, 'content-type': `application/${'x'.repeat(300)}`, 'iothub-connection-auth-method': long },
      applicationProperties: { [long]: long, '': '' },
    }),
    'unicode and a non-ASCII content type': record({
      systemProperties: { 'content-type': 'text/plain; charset=ü', 'content-encoding': 'utf-8', 'dt-subject': '🌡️ sensor' },
      applicationProperties: { 'temp alert': 'a&b=c/d', emoji: '🌡️' },
    }),
    'only a late property (nulls before it)': record({ systemProperties: { 'absolute-expiry-time': '2026-01-01T00:00:00Z' } }),
    'unparseable times fall back': record({ systemProperties: { 'iothub-enqueuedtime': 'soon', 'absolute-expiry-time': 'never' } }),
    'a time before 1970': record({ enqueuedTime: -86_400_123 }),
    'null stamps': record({ systemProperties: { 'iothub-connection-device-id': null, 'iothub-connection-module-id': null, 'dt-subject': null, to: null } as never }),
  };
  for (const [name, event] of Object.entries(cases)) {
    test(`${name}: the same bytes rhea encodes`, () => {
      expect(encodeEventMessage(event)).toEqual(rheaEncoded(event));
    });
  }

  test('positions of every size encode as rhea encodes them', () => {
    for (const sequenceNumber of [0, 1, 127, 128, 255, 256, 65_535, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
      for (const offset of [0, 99, 2 ** 40]) {
        const event = record({ sequenceNumber, offset, enqueuedTime: ENQUEUED + (sequenceNumber % 1000) });
        expect(encodeEventMessage(event)).toEqual(rheaEncoded(event));
      }
    }
  });

  test('each message keeps its bytes while later ones are encoded', () => {
    const first = encodeEventMessage(record({ body: new Uint8Array([1, 2, 3]) }));
    const copy = Buffer.from(first);
    for (let i = 0; i < 2000; i++) encodeEventMessage(record({ sequenceNumber: i, body: new Uint8Array(100) }));
    expect(first).toEqual(copy);
  });
});

describe('the AMQP message of an event', () => {
  test('the body goes out as a data section with the stored bytes', () => {
    const message = received(record({ body: new Uint8Array([0, 1, 2, 255]) }));
    expect(message.body.typecode).toBe(0x75);
    expect(message.body.content).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(wire(encodeEventMessage(record())).sections['0x75']).toBe('Vbin8');
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
      const { annotations } = wire(encodeEventMessage(record({ sequenceNumber })));
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
