import { describe, expect, test } from 'bun:test';
import { argumentInvalid, serverError } from '@tributary/core';
import { MAX_PACKET_BYTES } from '../connection.ts';
import { createMqttHarness, encode, flush, publishPacket } from '../test-harness.ts';

const EVENTS = 'devices/d1/messages/events/';
const TWIN_RESPONSES = '$iothub/twin/res/#';

/** The fixed header of a QoS 0 PUBLISH declaring `remainingLength` bytes, without any of them. */
function publishHeader(remainingLength: number): Uint8Array {
  const bytes = [0x30];
  let rest = remainingLength;
  do {
    let digit = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) digit |= 0x80;
    bytes.push(digit);
  } while (rest > 0);
  return Uint8Array.from(bytes);
}

describe('telemetry', () => {
  test('a QoS 1 PUBACK is written only after the telemetry append resolves', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    h.fakes.telemetry.hold();
    client.send(publishPacket(EVENTS, 'hello', { qos: 1, messageId: 17 }));
    await flush();
    expect(h.fakes.telemetry.appended).toHaveLength(1);
    expect(client.written('puback')).toEqual([]);
    h.fakes.telemetry.release();
    await flush();
    expect(client.written('puback')).toEqual([expect.objectContaining({ cmd: 'puback', messageId: 17 })]);
    expect(client.isEnded).toBe(false);
  });

  test('the committed message carries the identity, the body and the Telemetry source', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(publishPacket(EVENTS, Uint8Array.from([0, 1, 2, 255]), { qos: 1 }));
    await flush();
    expect(h.fakes.telemetry.committed).toHaveLength(1);
    const [message] = h.fakes.telemetry.committed;
    expect(message).toMatchObject({ deviceId: 'd1', moduleId: null, messageSource: 'Telemetry', systemProperties: {}, applicationProperties: {} });
    expect([...message!.body]).toEqual([0, 1, 2, 255]);
  });

  test('PUBACKs come out in the order the PUBLISHes came in even when commits complete in another order', async () => {
    const h = createMqttHarness({ controlledTelemetry: true });
    const telemetry = h.telemetry!;
    const client = await h.connect('d1');
    client.send(
      publishPacket(EVENTS, 'a', { qos: 1, messageId: 1 }),
      publishPacket(EVENTS, 'b', { qos: 1, messageId: 2 }),
      publishPacket(EVENTS, 'c', { qos: 1, messageId: 3 }),
    );
    await flush();
    expect(telemetry.appends).toHaveLength(3);
    telemetry.at(2).resolve();
    telemetry.at(1).resolve();
    await flush();
    expect(client.written('puback')).toEqual([]);
    telemetry.at(0).resolve();
    await flush();
    expect(client.written('puback').map((p) => p.messageId)).toEqual([1, 2, 3]);
  });

  test('a PUBACK goes out as soon as its own commit and all earlier ones are done', async () => {
    const h = createMqttHarness({ controlledTelemetry: true });
    const telemetry = h.telemetry!;
    const client = await h.connect('d1');
    client.send(publishPacket(EVENTS, 'a', { qos: 1, messageId: 1 }), publishPacket(EVENTS, 'b', { qos: 1, messageId: 2 }));
    await flush();
    telemetry.at(0).resolve();
    await flush();
    expect(client.written('puback').map((p) => p.messageId)).toEqual([1]);
    telemetry.at(1).resolve();
    await flush();
    expect(client.written('puback').map((p) => p.messageId)).toEqual([1, 2]);
  });

  test('a held batch of PUBLISHes is acknowledged in order once released', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    h.fakes.telemetry.hold();
    client.send(...[5, 6, 7].map((messageId) => publishPacket(EVENTS, 'x', { qos: 1, messageId })));
    await flush();
    expect(client.written('puback')).toEqual([]);
    h.fakes.telemetry.release();
    await flush();
    expect(client.written('puback').map((p) => p.messageId)).toEqual([5, 6, 7]);
  });

  test('two PUBLISHes in one chunk are both committed and acknowledged', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.sendBytes(Buffer.concat([encode(publishPacket(EVENTS, 'a', { qos: 1, messageId: 1 })), encode(publishPacket(EVENTS, 'b', { qos: 1, messageId: 2 }))]));
    await flush();
    expect(h.fakes.telemetry.committed.map((m) => new TextDecoder().decode(m.body))).toEqual(['a', 'b']);
    expect(client.written('puback').map((p) => p.messageId)).toEqual([1, 2]);
  });

  test('a PUBLISH split across chunks is committed once its last byte arrives', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    const bytes = encode(publishPacket(`${EVENTS}a=1`, 'payload', { qos: 1, messageId: 9 }));
    client.sendBytes(bytes.subarray(0, 1));
    client.sendBytes(bytes.subarray(1, 10));
    await flush();
    expect(h.fakes.telemetry.appended).toEqual([]);
    client.sendBytes(bytes.subarray(10));
    await flush();
    expect(h.fakes.telemetry.committed).toHaveLength(1);
    expect(client.written('puback').map((p) => p.messageId)).toEqual([9]);
  });

  test("a device whose id contains `%41` sends telemetry on the topic the SDK builds from its raw id", async () => {
    const h = createMqttHarness();
    const client = await h.connect('dev%41');
    client.send(publishPacket('devices/dev%41/messages/events/', 'x', { qos: 1 }));
    await flush();
    expect(client.isEnded).toBe(false);
    expect(h.fakes.telemetry.committed.map((m) => m.deviceId)).toEqual(['dev%41']);
    expect(client.written('puback')).toHaveLength(1);
  });

  test('the property bag becomes system properties and decoded application properties', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(
      publishPacket(
        `${EVENTS}%24.mid=m-1&$.cid=c-1&%24.uid=u&%24.ct=application%2Fjson&%24.ce=utf-8&%24.exp=2030-01-01T00%3A00%3A00.000Z&temp%20alert=a%26b%3Dc%2Fd&%24.sub=thermostat1`,
        '{}',
        { qos: 1 },
      ),
    );
    await flush();
    expect(h.fakes.telemetry.committed[0]).toMatchObject({
      systemProperties: {
        'message-id': 'm-1',
        'correlation-id': 'c-1',
        'user-id': 'u',
        'content-type': 'application/json',
        'content-encoding': 'utf-8',
        'absolute-expiry-time': '2030-01-01T00:00:00.000Z',
        'dt-subject': 'thermostat1',
      },
      applicationProperties: { 'temp alert': 'a&b=c/d' },
    });
  });

  test('RETAIN is not kept but marks the message with the application property mqtt-retain', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(publishPacket(`${EVENTS}a=1`, 'x', { qos: 1, retain: true }), publishPacket(EVENTS, 'y', { qos: 1, messageId: 2 }));
    await flush();
    expect(h.fakes.telemetry.committed.map((m) => m.applicationProperties)).toEqual([{ a: '1', 'mqtt-retain': 'true' }, {}]);
  });

  test('a QoS 0 message is committed and gets no PUBACK', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(publishPacket(EVENTS, 'x', { qos: 0 }));
    await flush();
    expect(h.fakes.telemetry.committed).toHaveLength(1);
    expect(client.packets.map((p) => p.cmd)).toEqual(['connack']);
    expect(client.isEnded).toBe(false);
  });

  test('a module sends on its own module topic, and a `%24.on` bag with a trailing `/` names the output', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1/m1');
    client.send(publishPacket('devices/d1/modules/m1/messages/events/%24.on=alerts&level=high/', 'x', { qos: 1 }));
    await flush();
    expect(h.fakes.telemetry.committed[0]).toMatchObject({
      deviceId: 'd1',
      moduleId: 'm1',
      systemProperties: { 'iothub-outputname': 'alerts' },
      applicationProperties: { level: 'high' },
    });
    expect(client.written('puback')).toHaveLength(1);
  });

  test('a failed append (HubError) ends the stream without a PUBACK', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    h.fakes.telemetry.failWith(serverError());
    client.send(publishPacket(EVENTS, 'x', { qos: 1 }));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.sessions.get('d1')).toBeUndefined();
  });

  test('a failed QoS 0 append ends the stream too', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    h.fakes.telemetry.failWith(serverError());
    client.send(publishPacket(EVENTS, 'x', { qos: 0 }));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
  });

  test('an unexpected append failure (not a HubError) ends the stream without a PUBACK', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    h.fakes.telemetry.failWith(new Error('disk on fire'));
    client.send(publishPacket(EVENTS, 'x', { qos: 1 }));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
  });

  // Both tests below fail today with an unhandled rejection: publish.ts keeps the failed `committed` promise
  // without a handler until the earlier commit is done. Outside tests Bun exits on an unhandled rejection,
  // so one device can stop the whole hub this way.
  test('a malformed bag behind a QoS 1 message still committing ends only this connection, after PUBACKing the earlier one', async () => {
    const h = createMqttHarness({ controlledTelemetry: true });
    const telemetry = h.telemetry!;
    const client = await h.connect('d1');
    client.send(publishPacket(EVENTS, 'a', { qos: 1, messageId: 1 }), publishPacket(`${EVENTS}a=%zz`, 'b', { qos: 1, messageId: 2 }));
    await flush();
    telemetry.at(0).resolve();
    await flush();
    expect(telemetry.appends).toHaveLength(1);
    expect(client.stream.log).toEqual(['connack', 'puback', 'end']);
  });

  test('when a later message fails while an earlier one is still committing, the earlier one is acknowledged, then the stream ends', async () => {
    const h = createMqttHarness({ controlledTelemetry: true });
    const telemetry = h.telemetry!;
    const client = await h.connect('d1');
    client.send(publishPacket(EVENTS, 'a', { qos: 1, messageId: 1 }), publishPacket(EVENTS, 'b', { qos: 1, messageId: 2 }));
    await flush();
    telemetry.at(1).reject(serverError());
    await flush();
    telemetry.at(0).resolve();
    await flush();
    expect(client.stream.log).toEqual(['connack', 'puback', 'end']);
    expect(client.written('puback').map((p) => p.messageId)).toEqual([1]);
  });

  test('a message larger than 256 KB (below the packet limit) ends the stream without a PUBACK or commit', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    const bytes = encode(publishPacket(EVENTS, new Uint8Array(256 * 1024 + 1), { qos: 1 }));
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024) client.sendBytes(bytes.subarray(offset, offset + 64 * 1024));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.fakes.telemetry.committed).toEqual([]);
  });

  test('a message of exactly 256 KB is committed and acknowledged', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    const bytes = encode(publishPacket(EVENTS, new Uint8Array(256 * 1024), { qos: 1 }));
    for (let offset = 0; offset < bytes.length; offset += 64 * 1024) client.sendBytes(bytes.subarray(offset, offset + 64 * 1024));
    await flush();
    expect(h.fakes.telemetry.committed).toHaveLength(1);
    expect(client.written('puback')).toHaveLength(1);
  });
});

describe('publishes the hub refuses', () => {
  async function expectRefused(identity: string, topic: string, options: { qos?: 0 | 1 | 2 } = {}) {
    const h = createMqttHarness();
    const client = await h.connect(identity);
    h.fakes.twins.setTwin('d1', null, { desired: { $version: 1 }, reported: { $version: 1 } });
    client.send(publishPacket(topic, 'x', { qos: options.qos ?? 1, messageId: 3 }));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.fakes.telemetry.appended).toEqual([]);
    expect(h.fakes.twins.reads).toEqual([]);
    expect(h.sessions.get('d1', identity.includes('/') ? identity.split('/')[1] : null)).toBeUndefined();
  }

  test("another device's telemetry topic ends the stream without a PUBACK", async () => {
    await expectRefused('d1', 'devices/d2/messages/events/');
  });

  test('a module telemetry topic from a device identity ends the stream', async () => {
    await expectRefused('d1', 'devices/d1/modules/m1/messages/events/');
  });

  test("a device telemetry topic from a module identity, or another module's topic, ends the stream", async () => {
    await expectRefused('d1/m1', 'devices/d1/messages/events/');
    await expectRefused('d1/m1', 'devices/d1/modules/m2/messages/events/');
  });

  test('QoS 2 ends the stream', async () => {
    await expectRefused('d1', EVENTS, { qos: 2 });
    await expectRefused('d1', '$iothub/twin/GET/?$rid=1', { qos: 2 });
  });

  test('`+` or `#` in a topic name ends the stream', async () => {
    await expectRefused('d1', 'devices/+/messages/events/');
    await expectRefused('d1', 'devices/d1/messages/events/#');
    await expectRefused('d1', 'devices/d1/messages/events/a=1+2');
  });

  test('a topic IoT Hub does not define ends the stream', async () => {
    await expectRefused('d1', 'devices/d1/messages/devicebound/');
    await expectRefused('d1', 'hello/world');
    await expectRefused('d1', '$iothub/twin/GET/?nope=1');
  });

  test('a malformed property bag (`%zz`) ends the stream without a PUBACK', async () => {
    await expectRefused('d1', `${EVENTS}a=%zz`);
    await expectRefused('d1', `${EVENTS}%zz=1`);
  });

  test('an output name (`%24.on`) from a device identity ends the stream', async () => {
    await expectRefused('d1', `${EVENTS}%24.on=out1/`);
  });

  /** A QoS 1 telemetry PUBLISH whose topic carries `bytes` verbatim inside its property bag. */
  function publishWithRawTopicBytes(bytes: number[]): Uint8Array {
    const marker = '~'.repeat(bytes.length);
    const packet = Uint8Array.from(encode(publishPacket(`${EVENTS}a=${marker}`, 'x', { qos: 1 })));
    packet.set(bytes, Buffer.from(packet).indexOf(marker));
    return packet;
  }

  test('a topic with ill-formed UTF-8 (invalid byte, overlong form, encoded surrogate) ends the stream without a PUBACK', async () => {
    for (const bytes of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const h = createMqttHarness();
      const client = await h.connect('d1');
      client.sendBytes(publishWithRawTopicBytes(bytes));
      await flush();
      expect(client.stream.log).toEqual(['connack', 'end']);
      expect(h.fakes.telemetry.appended).toEqual([]);
    }
  });

  test('well-formed multi-byte UTF-8 in a topic is accepted', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.sendBytes(publishWithRawTopicBytes([0xc3, 0xbc]));
    await flush();
    expect(h.fakes.telemetry.committed.map((m) => m.applicationProperties)).toEqual([{ a: 'ü' }]);
  });

  // [MQTT-1.5.3-2] a string containing U+0000 MUST make the receiver close the network connection.
  test('a topic containing U+0000 ends the stream without a PUBACK', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.sendBytes(publishWithRawTopicBytes([0x00]));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.fakes.telemetry.appended).toEqual([]);
  });

  test('a remaining length above MAX_PACKET_BYTES ends the stream before the payload is sent', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.sendBytes(publishHeader(MAX_PACKET_BYTES + 1));
    expect(client.stream.log).toEqual(['connack', 'end']);
    client.sendBytes(new Uint8Array(1024));
    await flush();
    expect(h.fakes.telemetry.appended).toEqual([]);
  });

  test('a remaining length of exactly MAX_PACKET_BYTES is waited for', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.sendBytes(publishHeader(MAX_PACKET_BYTES));
    await flush();
    expect(client.isEnded).toBe(false);
  });

  // MAX_PACKET_BYTES says "anything larger is refused unread"; the check in receive() only sees a
  // partially parsed packet, so a whole oversized packet in one chunk (one WebSocket message) slips through.
  test('an oversized packet that arrives whole in one chunk is refused unread', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    const patch = JSON.stringify({ blob: 'x'.repeat(MAX_PACKET_BYTES) });
    client.sendBytes(encode(publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=1', patch)));
    await flush();
    expect(client.isEnded).toBe(true);
    expect(h.fakes.twins.reportedPatches).toEqual([]);
  });
});

describe('twin requests', () => {
  test('GET answers 200 on the twin response topic with the JSON twin', async () => {
    const h = createMqttHarness();
    const twin = { desired: { color: 'red', $version: 4 }, reported: { temp: 21, $version: 7 } };
    h.fakes.twins.setTwin('d1', null, twin);
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    client.send(publishPacket('$iothub/twin/GET/?$rid=abc', ' '));
    await flush();
    const [response] = client.publishes;
    expect(response).toMatchObject({ topic: '$iothub/twin/res/200/?$rid=abc', qos: 0 });
    expect(JSON.parse(response!.payload.toString())).toEqual(twin);
    expect(h.fakes.twins.reads).toEqual([{ deviceId: 'd1', moduleId: null }]);
  });

  test("a module's GET reads the module twin", async () => {
    const h = createMqttHarness();
    h.fakes.twins.setTwin('d1', 'm1', { desired: { $version: 2 }, reported: { $version: 3 } });
    const client = await h.connect('d1/m1');
    await client.subscribe(TWIN_RESPONSES);
    client.send(publishPacket('$iothub/twin/GET/?$rid=1', ' '));
    await flush();
    expect(JSON.parse(client.publishes[0]!.payload.toString())).toEqual({ desired: { $version: 2 }, reported: { $version: 3 } });
  });

  test('PATCH reported answers 204 with the new $version and an empty body', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    client.send(publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=r1', '{"temp":21,"nested":{"a":null}}'));
    await flush();
    expect(h.fakes.twins.reportedPatches).toEqual([{ deviceId: 'd1', moduleId: null, patch: { temp: 21, nested: { a: null } } }]);
    expect(client.publishes).toEqual([expect.objectContaining({ topic: '$iothub/twin/res/204/?$rid=r1&$version=2', qos: 0 })]);
    expect(client.publishes[0]!.payload.length).toBe(0);
  });

  test('a twin failure answers its status with the JSON body the SDK reads as an error', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    h.fakes.twins.failWith(argumentInvalid('bad twin'));
    client.send(publishPacket('$iothub/twin/GET/?$rid=7', ' '));
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual(['$iothub/twin/res/400/?$rid=7']);
    expect(JSON.parse(client.publishes[0]!.payload.toString())).toEqual({ errorCode: 400004, message: 'bad twin' });
    expect(client.isEnded).toBe(false);
  });

  test('a hub failure on PATCH answers 500 with errorCode 500001 and no $version', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    h.fakes.twins.failWith(serverError());
    client.send(publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=8', '{"a":1}'));
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual(['$iothub/twin/res/500/?$rid=8']);
    expect(JSON.parse(client.publishes[0]!.payload.toString())).toMatchObject({ errorCode: 500001 });
  });

  test('a reported patch that is not JSON, or not a JSON object, answers 400 with errorCode 400004 and applies nothing', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    client.send(
      publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=1', '{not json'),
      publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=2', '[1,2]'),
      publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=3', 'null'),
    );
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual([
      '$iothub/twin/res/400/?$rid=1',
      '$iothub/twin/res/400/?$rid=2',
      '$iothub/twin/res/400/?$rid=3',
    ]);
    for (const response of client.publishes) expect(JSON.parse(response.payload.toString())).toMatchObject({ errorCode: 400004, message: expect.any(String) });
    expect(h.fakes.twins.reportedPatches).toEqual([]);
    expect(client.isEnded).toBe(false);
  });

  test('the request id is taken from among other query parameters', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    client.send(publishPacket('$iothub/twin/GET/?x=1&$rid=42&y=2', ' '));
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual(['$iothub/twin/res/200/?$rid=42']);
  });

  test('no twin response is written when the device has not subscribed to $iothub/twin/res/#, but the patch is applied', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(publishPacket('$iothub/twin/GET/?$rid=1', ' '), publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=2', '{"a":1}'));
    await flush();
    expect(client.publishes).toEqual([]);
    expect(h.fakes.twins.reportedPatches).toHaveLength(1);
    expect(client.isEnded).toBe(false);
  });

  test('an error thrown by the twin service of an unexpected kind ends the stream', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    h.fakes.twins.failWith(new RangeError('bug'));
    client.send(publishPacket('$iothub/twin/GET/?$rid=1', ' '));
    await flush();
    expect(client.publishes).toEqual([]);
    expect(client.isEnded).toBe(true);
  });

  // [MQTT-4.3.2-2] a QoS 1 PUBLISH must be answered with PUBACK whatever its topic; SDKs built on paho
  // (azure-iot-sdk-python) publish every request at QoS 1 and wait for the PUBACK.
  test('a twin GET published at QoS 1 is acknowledged with PUBACK', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    client.send(publishPacket('$iothub/twin/GET/?$rid=1', ' ', { qos: 1, messageId: 44 }));
    await flush();
    expect(client.written('puback').map((p) => p.messageId)).toEqual([44]);
  });
});

describe('method responses', () => {
  test('a method response published at QoS 1 is acknowledged with PUBACK', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe('$iothub/methods/POST/#');
    const result = h.sessions.get('d1')!.invokeMethod('reboot', null, 30_000);
    await flush();
    client.send(publishPacket('$iothub/methods/res/200/?$rid=1', '{}', { qos: 1, messageId: 45 }));
    await flush();
    expect(await result).toEqual({ status: 200, payload: {} });
    expect(client.written('puback').map((p) => p.messageId)).toEqual([45]);
  });

  test('a response to an unknown request id is ignored and the connection stays open', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(publishPacket('$iothub/methods/res/200/?$rid=ffff', '{}'));
    await flush();
    expect(client.isEnded).toBe(false);
    expect(client.packets.map((p) => p.cmd)).toEqual(['connack']);
  });

  test('a failing status code reaches the caller with the JSON payload', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe('$iothub/methods/POST/#');
    const result = h.sessions.get('d1')!.invokeMethod('reboot', null, 30_000);
    await flush();
    client.send(publishPacket('$iothub/methods/res/404/?$rid=1', '{"error":"no such method"}'));
    expect(await result).toEqual({ status: 404, payload: { error: 'no such method' } });
  });

  test('a response body that is not JSON reaches the caller as a string', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe('$iothub/methods/POST/#');
    const result = h.sessions.get('d1')!.invokeMethod('m', null, 30_000);
    await flush();
    client.send(publishPacket('$iothub/methods/res/200/?$rid=1', 'plain text'));
    expect(await result).toEqual({ status: 200, payload: 'plain text' });
  });

});
