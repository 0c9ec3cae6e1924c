import { describe, expect, test } from 'bun:test';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { HubError, prepareCloudToDeviceMessage, type C2dDelivery, type FeedbackRecord, type JsonObject } from '@tributary/core';
import rhea, { type Message } from 'rhea';
import {
  c2dSendFromAmqp,
  c2dToAmqp,
  desiredPatchToAmqp,
  feedbackBatchToAmqp,
  methodRequestToAmqp,
  methodResponseFromAmqp,
  normaliseMessageId,
  telemetryFromAmqp,
  twinRequestFromAmqp,
  twinResponseToAmqp,
  wrapMessageId,
} from './message-mapping.ts';

// ---------------------------------------------------------------------------------------------
// The SDKs' own code, loaded from the installed packages. Both SDKs bundle rhea 1.0.24, so every
// "to the SDK" / "from the SDK" step below is a real encode with one rhea and decode with the other.

const require = createRequire(import.meta.url);
const requireFromDeviceAmqp = createRequire(require.resolve('azure-iot-device-amqp'));
const requireFromAmqpBase = createRequire(requireFromDeviceAmqp.resolve('azure-iot-amqp-base'));

const sdkRhea = requireFromAmqpBase('rhea');
/** azure-iot-amqp-base/dist/amqp_message.js: the device SDK's AMQP ⇄ Message conversion. */
const DeviceAmqpMessage = requireFromDeviceAmqp('azure-iot-amqp-base').AmqpMessage;
const DeviceMessage = requireFromAmqpBase('azure-iot-common').Message;
/** azure-iot-device-amqp/dist/amqp.js: the device transport (sendEvent, sendOutputEvent). */
const DeviceAmqp = require('azure-iot-device-amqp').Amqp;
const { AmqpTwinClient } = require('azure-iot-device-amqp/dist/amqp_twin_client.js');
const { AmqpDeviceMethodClient } = require('azure-iot-device-amqp/dist/amqp_device_method_client.js');
/** azure-iothub/dist/common-amqp/amqp_message.js, common-core/{message,endpoint}.js: the service Client's side. */
const ServiceAmqpMessage = require('azure-iothub/dist/common-amqp/amqp_message.js').AmqpMessage;
const ServiceMessage = require('azure-iothub/dist/common-core/message.js').Message;
const serviceEndpoint = require('azure-iothub/dist/common-core/endpoint.js');

/** Hub (rhea 3) → wire → SDK (rhea 1.0.24): what the SDK's link hands its message handler. */
const toSdk = (message: Message): any => sdkRhea.message.decode(rhea.message.encode(message));
/** SDK (rhea 1.0.24) → wire → hub (rhea 3): what our link receives. */
const fromSdk = (amqpMessage: unknown): Message => rhea.message.decode(sdkRhea.message.encode(amqpMessage)) as unknown as Message;
/** A message through our own rhea's codec, as the receiving link would see it. */
const viaWire = (message: Partial<Message>): Message => rhea.message.decode(rhea.message.encode(message as Message)) as unknown as Message;

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');
const sectionOf = (body: any) => ({ typecode: body.typecode, content: Buffer.from(body.content).toString('utf8') });

function thrown(action: () => unknown): HubError | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof HubError) return error;
    throw error;
  }
  return undefined;
}

const UUID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const uuidBytes = Buffer.from(UUID.replaceAll('-', ''), 'hex');

// ---------------------------------------------------------------------------------------------

describe('wrapMessageId and normaliseMessageId', () => {
  test('a UUID-shaped id goes on the wire as an AMQP uuid (0x98) and comes back as the same string', () => {
    const encoded = rhea.message.encode({ message_id: wrapMessageId(UUID), body: null } as Message);
    expect(encoded.includes(Buffer.concat([Buffer.from([0x98]), uuidBytes]))).toBe(true);
    const decoded = rhea.message.decode(encoded);
    expect(Buffer.isBuffer(decoded.message_id)).toBe(true);
    expect(normaliseMessageId(decoded.message_id)).toBe(UUID);
  });

  test("ids outside the SDK's UUID shape (upper case, version 0, plain text) stay strings and round-trip exactly", () => {
    for (const id of [UUID.toUpperCase(), '00000000-0000-0000-0000-000000000000', 'msg-1', '']) {
      expect(wrapMessageId(id)).toBe(id);
      expect(normaliseMessageId(viaWire({ message_id: wrapMessageId(id), body: null }).message_id)).toBe(id);
    }
  });

  test('strings stay, ulongs become decimal, a uuid a lower-case UUID, other binary upper-case hex, absence undefined', () => {
    const table: [unknown, string | undefined][] = [
      ['plain', 'plain'],
      [12345, '12345'],
      [uuidBytes, UUID],
      [new Uint8Array(uuidBytes), UUID],
      [rhea.types.wrap_uuid(uuidBytes), UUID],
      [Buffer.from([0xab, 0x01, 0xff]), 'AB01FF'],
      [undefined, undefined],
      [null, undefined],
    ];
    for (const [value, expected] of table) expect(normaliseMessageId(value)).toBe(expected);
  });

  test('a ulong id on the wire is read back in decimal', () => {
    expect(normaliseMessageId(viaWire({ message_id: 42, correlation_id: 7, body: null }).message_id)).toBe('42');
  });

  test('an id the device SDK types as a uuid reaches the hub as the string the application set', () => {
    const message = new DeviceMessage('x');
    message.messageId = randomUUID();
    message.correlationId = randomUUID();
    const received = fromSdk(DeviceAmqpMessage.fromMessage(message));
    expect(Buffer.isBuffer(received.message_id)).toBe(true);
    expect(normaliseMessageId(received.message_id)).toBe(message.messageId);
    expect(normaliseMessageId(received.correlation_id)).toBe(message.correlationId);
  });
});

// ---------------------------------------------------------------------------------------------

/** What the device transport puts on its D2C link for `sendEvent` / `sendOutputEvent`. */
function sentByDeviceTransport(send: (this: unknown, callback: () => void) => void): Message {
  let captured: unknown;
  send.call({ _fsm: { handle: (_operation: string, amqpMessage: unknown) => (captured = amqpMessage) } }, () => {});
  return fromSdk(captured);
}

describe('telemetryFromAmqp', () => {
  test("a message sent by the device SDK's sendEvent maps to IoT Hub system and application properties", () => {
    const message = new DeviceMessage(JSON.stringify({ temperature: 21.5 }));
    message.messageId = UUID;
    message.correlationId = 'corr-1';
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.expiryTimeUtc = Date.parse('2031-01-02T03:04:05.678Z');
    message.interfaceId = 'urn:azureiot:ModelDiscovery:1';
    message.properties.add('alert', 'high');
    message.properties.add('dt-subject', 'thermostat1');
    const received = sentByDeviceTransport(function (this: unknown, cb) {
      DeviceAmqp.prototype.sendEvent.call(this, message, cb);
    });
    expect(telemetryFromAmqp(received)).toEqual({
      body: Buffer.from('{"temperature":21.5}'),
      systemProperties: {
        'message-id': UUID,
        'correlation-id': 'corr-1',
        'content-type': 'application/json',
        'content-encoding': 'utf-8',
        'absolute-expiry-time': '2031-01-02T03:04:05.678Z',
        'iothub-interface-id': 'urn:azureiot:ModelDiscovery:1',
        'dt-subject': 'thermostat1',
      },
      applicationProperties: { alert: 'high' },
    });
  });

  test("a module's sendOutputEvent names its output as a system property, not an application property", () => {
    const message = new DeviceMessage('x');
    message.properties.add('level', 'warn');
    const received = sentByDeviceTransport(function (this: unknown, cb) {
      DeviceAmqp.prototype.sendOutputEvent.call(this, 'alerts', message, cb);
    });
    const telemetry = telemetryFromAmqp(received);
    expect(telemetry.systemProperties['iothub-outputname']).toBe('alerts');
    expect(telemetry.applicationProperties).toEqual({ level: 'warn' });
  });

  test('user_id bytes become a UTF-8 string, and to, content type and expiry carry over', () => {
    const received = viaWire({
      user_id: Buffer.from('dëvice-user') as unknown as string,
      to: '/devices/d1/messages/events',
      content_type: 'text/plain',
      absolute_expiry_time: new Date('2030-05-06T07:08:09.000Z'),
      body: rhea.message.data_section(Buffer.from('hi')),
    });
    expect(telemetryFromAmqp(received).systemProperties).toEqual({
      'user-id': 'dëvice-user',
      to: '/devices/d1/messages/events',
      'content-type': 'text/plain',
      'absolute-expiry-time': '2030-05-06T07:08:09.000Z',
    });
  });

  test('an AMQP value body is accepted: a string as UTF-8, binary as is, other values as JSON text, none as empty', () => {
    const table: [unknown, string][] = [
      ['héllo', 'héllo'],
      [Buffer.from([1, 2, 3]), '\u0001\u0002\u0003'],
      [{ a: 1, b: [true, null] }, '{"a":1,"b":[true,null]}'],
      [42, '42'],
      [null, ''],
    ];
    for (const [body, expected] of table) expect(text(telemetryFromAmqp(viaWire({ body })).body)).toBe(expected);
    expect(telemetryFromAmqp(viaWire({})).body.byteLength).toBe(0);
  });

  test('an amqp-sequence body becomes the JSON text of its list, and several data sections are concatenated', () => {
    expect(text(telemetryFromAmqp(viaWire({ body: rhea.message.sequence_section([1, 'two', false]) })).body)).toBe('[1,"two",false]');
    const sections = rhea.message.data_sections([Buffer.from('ab'), Buffer.from('cd')]);
    expect(text(telemetryFromAmqp(viaWire({ body: sections })).body)).toBe('abcd');
  });

  test('application property values of any AMQP type become strings', () => {
    const received = viaWire({
      application_properties: {
        s: 'text',
        n: 7,
        f: 1.5,
        negative: -3,
        yes: true,
        nothing: null,
        when: new Date('2030-01-01T00:00:00.000Z'),
        bytes: Buffer.from('raw'),
        list: [1, 'a'],
      },
      body: null,
    });
    expect(telemetryFromAmqp(received).applicationProperties).toEqual({
      s: 'text',
      n: '7',
      f: '1.5',
      negative: '-3',
      yes: 'true',
      nothing: '',
      when: '2030-01-01T00:00:00.000Z',
      bytes: 'raw',
      list: '[1,"a"]',
    });
  });
});

// ---------------------------------------------------------------------------------------------

function delivery(overrides: Partial<C2dDelivery> = {}): C2dDelivery {
  return {
    lockToken: 'lock-1',
    messageId: UUID,
    deliveryCount: 1,
    body: Buffer.from('open the valve'),
    systemProperties: {
      'message-id': UUID,
      to: '/devices/d1/messages/deviceBound',
      'correlation-id': 'corr-9',
      'user-id': 'operator',
      'content-type': 'text/plain',
      'content-encoding': 'utf-8',
      'absolute-expiry-time': '2031-02-03T04:05:06.007Z',
    },
    applicationProperties: { valve: 'v7', 'iothub-ack': 'full' },
    ...overrides,
  };
}

describe('c2dToAmqp', () => {
  test("the device SDK's AmqpMessage.toMessage reads the body, ids, properties and ack of a delivery", () => {
    const onWire = toSdk(c2dToAmqp(delivery()));
    const message = DeviceAmqpMessage.toMessage(onWire);
    expect(Buffer.from(message.data).toString()).toBe('open the valve');
    expect(message.messageId).toBe(UUID);
    expect(message.correlationId).toBe('corr-9');
    expect(message.to).toBe('/devices/d1/messages/deviceBound');
    expect(message.contentType).toBe('text/plain');
    expect(message.contentEncoding).toBe('utf-8');
    expect(message.expiryTimeUtc).toBe(Date.parse('2031-02-03T04:05:06.007Z'));
    expect(message.ack).toBe('full');
    expect(message.properties.getValue('valve')).toBe('v7');
    expect(Buffer.from(onWire.user_id).toString()).toBe('operator');
  });

  test('a UUID-shaped message id travels as an AMQP uuid, as IoT Hub sends it; any other id as a string', () => {
    expect(Buffer.isBuffer(toSdk(c2dToAmqp(delivery())).message_id)).toBe(true);
    const plain = toSdk(c2dToAmqp(delivery({ messageId: 'order-17' })));
    expect(plain.message_id).toBe('order-17');
    expect(DeviceAmqpMessage.toMessage(plain).messageId).toBe('order-17');
  });

  test('the body is one data section, also when empty, so the SDK never sees an AMQP value', () => {
    const onWire = toSdk(c2dToAmqp(delivery({ body: new Uint8Array(0), applicationProperties: {}, systemProperties: {} })));
    expect(onWire.body.typecode).toBe(0x75);
    expect(DeviceAmqpMessage.toMessage(onWire).data.length).toBe(0);
    expect(DeviceAmqpMessage.toMessage(onWire).ack).toBeUndefined();
  });

  test('a redelivery carries the number of earlier deliveries in header.delivery_count', () => {
    expect(viaWire(c2dToAmqp(delivery({ deliveryCount: 3 }))).delivery_count).toBe(2);
    expect(viaWire(c2dToAmqp(delivery())).delivery_count).toBeUndefined();
  });

  test('a module input message names its input in the x-opt-input-name annotation', () => {
    const onWire = toSdk(c2dToAmqp(delivery(), { inputName: 'input1' }));
    expect(onWire.message_annotations['x-opt-input-name']).toBe('input1');
    expect(c2dToAmqp(delivery()).message_annotations).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

/** What the service `Client.send(deviceId, message)` puts on `/messages/devicebound` (azure-iothub/dist/amqp.js `send`). */
function sentByServiceClient(deviceId: string, message: unknown): Message {
  const amqpMessage = ServiceAmqpMessage.fromMessage(message);
  amqpMessage.to = serviceEndpoint.deviceMessagePath(encodeURIComponent(deviceId));
  return fromSdk(amqpMessage);
}

describe('c2dSendFromAmqp', () => {
  test("a message sent by the service SDK's Client yields the decoded device id and core's send input", () => {
    const message = new ServiceMessage('{"cmd":"reboot"}');
    message.messageId = UUID;
    message.correlationId = 'corr-2';
    message.ack = 'full';
    message.expiryTimeUtc = Date.parse('2030-07-08T09:10:11.000Z');
    message.contentType = 'application/json';
    message.properties.add('priority', 'high');
    const { deviceId, input } = c2dSendFromAmqp(sentByServiceClient('dev/1 ü', message));
    expect(deviceId).toBe('dev/1 ü');
    expect(input).toEqual({
      body: Buffer.from('{"cmd":"reboot"}'),
      systemProperties: {
        'message-id': UUID,
        'correlation-id': 'corr-2',
        'content-type': 'application/json',
        'absolute-expiry-time': '2030-07-08T09:10:11.000Z',
      },
      applicationProperties: { priority: 'high' },
      ack: 'full',
    });
    const prepared = prepareCloudToDeviceMessage(input, {
      deviceId,
      nowMs: Date.parse('2030-07-08T09:00:00.000Z'),
      defaultTtlMs: 3_600_000,
      maxTtlMs: 48 * 3_600_000,
    });
    expect(prepared.ack).toBe('full');
    expect(prepared.messageId).toBe(UUID);
  });

  test('a message without iothub-ack leaves the ack mode to core', () => {
    const { input } = c2dSendFromAmqp(sentByServiceClient('d1', new ServiceMessage('x')));
    expect(input.ack).toBeUndefined();
    expect(input.applicationProperties).toEqual({});
  });

  test('the device-bound address is matched in any case', () => {
    const message = viaWire({ to: '/devices/d%2D1/messages/deviceBound', body: rhea.message.data_section(Buffer.from('x')) });
    expect(c2dSendFromAmqp(message).deviceId).toBe('d-1');
  });

  test('a missing, foreign or malformed `to` fails with ArgumentInvalid', () => {
    const targets = [
      undefined,
      '/devices/d1/messages/events',
      '/devices//messages/devicebound',
      '/devices/a/b/messages/devicebound',
      '/devices/%E0%A4%A/messages/devicebound',
      'devices/d1/messages/devicebound',
    ];
    for (const to of targets) {
      const message = viaWire({ ...(to === undefined ? {} : { to }), body: rhea.message.data_section(Buffer.from('x')) });
      expect(thrown(() => c2dSendFromAmqp(message))?.code).toBe('ArgumentInvalid');
    }
  });
});

// ---------------------------------------------------------------------------------------------

/** An attached AmqpDeviceMethodClient over a fake transport: our messages go in, its responses come out. */
function attachedMethodClient() {
  const receiverLink = new EventEmitter();
  const responses: unknown[] = [];
  const amqpClient = {
    attachSenderLink: (_endpoint: string, _options: unknown, done: (err: unknown, link: unknown) => void) => done(null, new EventEmitter()),
    attachReceiverLink: (_endpoint: string, _options: unknown, done: (err: unknown, link: unknown) => void) => done(null, receiverLink),
    send: (message: unknown, _endpoint: string, _to: unknown, done: (err?: unknown) => void) => {
      responses.push(message);
      done();
    },
  };
  const credentials = { getDeviceCredentials: (done: (err: unknown, c: unknown) => void) => done(null, { deviceId: 'd1' }) };
  const client = new AmqpDeviceMethodClient(credentials, amqpClient);
  client.attach(() => {});
  return { client, receiverLink, responses };
}

describe('methodRequestToAmqp', () => {
  test("the device SDK's method client receives the method name, request id and JSON payload", () => {
    const { client, receiverLink } = attachedMethodClient();
    const received: any[] = [];
    client.onDeviceMethod('reboot', (request: unknown) => received.push(request));
    receiverLink.emit('message', toSdk(methodRequestToAmqp({ requestId: '1f', methodName: 'reboot', payload: { delayS: 5 } })));
    expect(received).toEqual([{ methods: { methodName: 'reboot' }, body: '{"delayS":5}', requestId: '1f' }]);
  });

  test('a request without a payload carries the JSON text null, never an empty body', () => {
    const onWire = toSdk(methodRequestToAmqp({ requestId: '2', methodName: 'ping', payload: null }));
    expect(sectionOf(onWire.body)).toEqual({ typecode: 0x75, content: 'null' });
  });
});

describe('methodResponseFromAmqp', () => {
  test("a response sent by the SDK's method client maps to request id, status and payload, also for a UUID request id", () => {
    for (const requestId of ['1f', UUID]) {
      const { client, responses } = attachedMethodClient();
      client.sendMethodResponse({ requestId, status: 201, payload: { done: true } }, () => {});
      const received = fromSdk(DeviceAmqpMessage.fromMessage(responses[0]));
      expect(methodResponseFromAmqp(received)).toEqual({ requestId, status: 201, payload: { done: true } });
    }
  });

  test('a response the SDK sends without a payload has a null payload', () => {
    const { client, responses } = attachedMethodClient();
    client.sendMethodResponse({ requestId: '3', status: 200 }, () => {});
    expect(methodResponseFromAmqp(fromSdk(DeviceAmqpMessage.fromMessage(responses[0]))).payload).toBeNull();
  });

  test('an empty body is a null payload, text that is not JSON stays a string, and a decimal-string status is accepted', () => {
    const response = (body: string, status: unknown = 200) =>
      viaWire({ correlation_id: 'r', application_properties: { 'IoThub-status': status }, body: rhea.message.data_section(Buffer.from(body)) });
    expect(methodResponseFromAmqp(response('')).payload).toBeNull();
    expect(methodResponseFromAmqp(response('not json')).payload).toBe('not json');
    expect(methodResponseFromAmqp(response('"ok"', '404')).status).toBe(404);
  });

  test('a response without a correlation id or an integer IoThub-status fails with ArgumentInvalid', () => {
    const cases: Partial<Message>[] = [
      { application_properties: { 'IoThub-status': 200 }, body: null },
      { correlation_id: 'r', body: null },
      { correlation_id: 'r', application_properties: { 'IoThub-status': 'fine' }, body: null },
      { correlation_id: 'r', application_properties: { 'IoThub-status': 1.5 }, body: null },
    ];
    for (const message of cases) expect(thrown(() => methodResponseFromAmqp(viaWire(message)))?.code).toBe('ArgumentInvalid');
  });
});

// ---------------------------------------------------------------------------------------------

/** An AmqpTwinClient over a fake transport: its requests are captured, our responses fed to its receiver. */
function twinClient() {
  const receiverLink = new EventEmitter();
  const requests: unknown[] = [];
  const senderLink = Object.assign(new EventEmitter(), {
    send: (message: unknown, done: (err?: unknown) => void) => {
      requests.push(message);
      done();
    },
  });
  const client = {
    attachSenderLink: (_endpoint: string, _options: unknown, done: (err: unknown, link: unknown) => void) => done(null, senderLink),
    attachReceiverLink: (_endpoint: string, _options: unknown, done: (err: unknown, link: unknown) => void) => done(null, receiverLink),
  };
  const credentials = { getDeviceCredentials: (done: (err: unknown, c: unknown) => void) => done(null, { deviceId: 'd1' }) };
  const twin = new AmqpTwinClient(credentials, client);
  /** The last request as the hub's twin link receives it. */
  const lastRequest = () => twinRequestFromAmqp(fromSdk(requests.at(-1)));
  const respond = (message: Message) => receiverLink.emit('message', toSdk(message));
  return { twin, lastRequest, respond, receiverLink };
}

describe('twinRequestFromAmqp and twinResponseToAmqp', () => {
  test("the SDK's getTwin is a GET without resource, and our response body is what getTwin returns", () => {
    const { twin, lastRequest, respond } = twinClient();
    const results: unknown[] = [];
    twin.getTwin((err: unknown, result: unknown) => results.push(err ?? result));
    const request = lastRequest();
    expect(request.operation).toBe('GET');
    expect(request.resource).toBeUndefined();
    expect(request.body).toBeUndefined();
    expect(request.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const document = { desired: { $version: 2, mode: 'eco' }, reported: { $version: 1 } };
    respond(twinResponseToAmqp({ correlationId: request.rawCorrelationId, status: 200, body: document }));
    expect(results).toEqual([document]);
  });

  test("the SDK's reported patch is a PATCH on /properties/reported, and a 204 without body completes it", () => {
    const { twin, lastRequest, respond } = twinClient();
    const results: unknown[] = [];
    twin.updateTwinReportedProperties({ temp: 21, nested: { on: true } }, (err: unknown, result: unknown) => results.push(err ?? result ?? 'done'));
    const request = lastRequest();
    expect(request).toMatchObject({ operation: 'PATCH', resource: '/properties/reported', body: { temp: 21, nested: { on: true } } });
    respond(twinResponseToAmqp({ correlationId: request.rawCorrelationId, status: 204, version: 5 }));
    expect(results).toEqual(['done']);
  });

  test("the SDK's desired-properties subscribe and unsubscribe are PUT and DELETE on the notifications resource", () => {
    const { twin, lastRequest, respond } = twinClient();
    const results: unknown[] = [];
    twin.enableTwinDesiredPropertiesUpdates((err: unknown) => results.push(err ?? 'enabled'));
    const put = lastRequest();
    expect(put).toMatchObject({ operation: 'PUT', resource: '/notifications/twin/properties/desired' });
    expect(put.body).toBeUndefined();
    respond(twinResponseToAmqp({ correlationId: put.rawCorrelationId, status: 200 }));
    twin.disableTwinDesiredPropertiesUpdates((err: unknown) => results.push(err ?? 'disabled'));
    const del = lastRequest();
    expect(del).toMatchObject({ operation: 'DELETE', resource: '/notifications/twin/properties/desired' });
    respond(twinResponseToAmqp({ correlationId: del.rawCorrelationId, status: 200 }));
    expect(results).toEqual(['enabled', 'disabled']);
  });

  test('status goes on the wire as an AMQP int and version as an AMQP long', () => {
    const encoded = rhea.message.encode(twinResponseToAmqp({ correlationId: 'c', status: 200, version: 300 }));
    const symbol = (name: string) => Buffer.concat([Buffer.from([0xa3, name.length]), Buffer.from(name)]);
    expect(encoded.includes(Buffer.concat([symbol('status'), Buffer.from([0x71, 0, 0, 0, 200])]))).toBe(true);
    expect(encoded.includes(Buffer.concat([symbol('version'), Buffer.from([0x81, 0, 0, 0, 0, 0, 0, 1, 44])]))).toBe(true);
    expect(toSdk(twinResponseToAmqp({ correlationId: 'c', status: 200, version: 300 })).message_annotations).toEqual({ status: 200, version: 300 });
  });

  test('a response without a body has an empty data section, never an AMQP value', () => {
    const onWire = toSdk(twinResponseToAmqp({ correlationId: 'c', status: 204 }));
    expect(sectionOf(onWire.body)).toEqual({ typecode: 0x75, content: '' });
  });

  test('a string correlation id is echoed as a string; a uuid-typed one is normalised but echoed as a uuid', () => {
    const asString = twinRequestFromAmqp(viaWire({ correlation_id: UUID, message_annotations: { operation: 'GET' }, body: null }));
    expect(toSdk(twinResponseToAmqp({ correlationId: asString.rawCorrelationId, status: 200 })).correlation_id).toBe(UUID);
    const asUuid = twinRequestFromAmqp(viaWire({ correlation_id: wrapMessageId(UUID), message_annotations: { operation: 'get' }, body: null }));
    expect(asUuid.correlationId).toBe(UUID);
    expect(asUuid.operation).toBe('GET');
    expect(Buffer.isBuffer(toSdk(twinResponseToAmqp({ correlationId: asUuid.rawCorrelationId, status: 200 })).correlation_id)).toBe(true);
  });

  test('an unknown operation or a missing correlation id fails with ArgumentInvalid, a PATCH body that is not a JSON object with IotHubFormatError', () => {
    const request = (message: Partial<Message>) => thrown(() => twinRequestFromAmqp(viaWire(message)))?.code;
    expect(request({ correlation_id: 'c', message_annotations: { operation: 'POST' }, body: null })).toBe('ArgumentInvalid');
    expect(request({ correlation_id: 'c', body: null })).toBe('ArgumentInvalid');
    expect(request({ message_annotations: { operation: 'GET' }, body: null })).toBe('ArgumentInvalid');
    for (const body of ['{not json', '[1,2]', '"text"', ' ']) {
      const patch = { correlation_id: 'c', message_annotations: { operation: 'PATCH', resource: '/properties/reported' } };
      expect(request({ ...patch, body: rhea.message.data_section(Buffer.from(body)) })).toBe('IotHubFormatError');
    }
  });
});

describe('desiredPatchToAmqp', () => {
  test("a desired patch has no correlation id and reaches the SDK's twinDesiredPropertiesUpdate with its $version", () => {
    const { twin, lastRequest, respond } = twinClient();
    twin.enableTwinDesiredPropertiesUpdates(() => {});
    respond(twinResponseToAmqp({ correlationId: lastRequest().rawCorrelationId, status: 200 }));
    const patches: JsonObject[] = [];
    twin.on('twinDesiredPropertiesUpdate', (patch: JsonObject) => patches.push(patch));
    const message = desiredPatchToAmqp({ mode: 'eco', $version: 4 });
    expect(message.correlation_id).toBeUndefined();
    respond(message);
    expect(patches).toEqual([{ mode: 'eco', $version: 4 }]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('feedbackBatchToAmqp', () => {
  test("the service SDK's feedback receiver reads the batch as JSON records from the hub", () => {
    const records: FeedbackRecord[] = [
      {
        id: 1,
        originalMessageId: UUID,
        deviceId: 'd1',
        deviceGenerationId: '638000000000000001',
        statusCode: 'Success',
        description: 'Success',
        enqueuedTimeUtc: Date.parse('2030-01-01T00:00:00.000Z'),
      },
      {
        id: 2,
        originalMessageId: 'm2',
        deviceId: 'd2',
        deviceGenerationId: '638000000000000002',
        statusCode: 'Expired',
        description: 'Message expired',
        enqueuedTimeUtc: Date.parse('2030-01-01T00:00:01.000Z'),
      },
    ];
    const onWire = toSdk(feedbackBatchToAmqp(records, 'my-hub'));
    expect(Buffer.from(onWire.user_id).toString()).toBe('my-hub');
    const message = ServiceAmqpMessage.toMessage(onWire);
    expect(message.contentType).toBe('application/vnd.microsoft.iothub.feedback.json');
    expect(JSON.parse(Buffer.from(message.data).toString())).toEqual([
      {
        originalMessageId: UUID,
        description: 'Success',
        deviceGenerationId: '638000000000000001',
        deviceId: 'd1',
        enqueuedTimeUtc: '2030-01-01T00:00:00.000Z',
        statusCode: 'Success',
      },
      {
        originalMessageId: 'm2',
        description: 'Message expired',
        deviceGenerationId: '638000000000000002',
        deviceId: 'd2',
        enqueuedTimeUtc: '2030-01-01T00:00:01.000Z',
        statusCode: 'Expired',
      },
    ]);
  });
});
