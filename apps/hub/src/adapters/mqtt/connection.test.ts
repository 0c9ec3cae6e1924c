import { describe, expect, test } from 'bun:test';
import { HubError } from '@tributary/core';
import { deviceIdentity } from '@tributary/core/testing';
import { IDLE_TICK_MS } from './idle-wheel.ts';
import { connectPacket, createMqttHarness, encode, flush, type MqttHarness, type MqttTestClient, publishPacket } from './test-harness.ts';

const C2D = 'devices/d1/messages/devicebound/#';
const METHODS = '$iothub/methods/POST/#';
const TWIN_RESPONSES = '$iothub/twin/res/#';
const DESIRED = '$iothub/twin/PATCH/properties/desired/#';
const text = (bytes: Uint8Array | string) => (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));

function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('keepalive', () => {
  test('keepalive 60: a stream silent for 90 s (1.5 × keepalive) ends, and the device is Disconnected', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1', { keepalive: 60 });
    h.clock.advance(89_999);
    expect(client.isEnded).toBe(false);
    h.clock.advance(1);
    expect(client.stream.log).toEqual(['connack', 'end']);
    await flush();
    expect(h.sessions.get('d1')).toBeUndefined();
    expect(h.fakes.connections.of('d1').map((c) => c.isConnected)).toEqual([true, false]);
  });

  test('a PINGREQ at 80 s gets a PINGRESP and restarts the 90 s timer', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1', { keepalive: 60 });
    h.clock.advance(80_000);
    client.send({ cmd: 'pingreq' });
    expect(client.stream.log).toEqual(['connack', 'pingresp']);
    h.clock.advance(89_999);
    expect(client.isEnded).toBe(false);
    h.clock.advance(1);
    expect(client.isEnded).toBe(true);
  });

  test('any packet from the device restarts the timer, not only PINGREQ', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1', { keepalive: 60 });
    h.clock.advance(80_000);
    client.send(publishPacket('devices/d1/messages/events/', 'x'));
    await flush();
    h.clock.advance(89_999);
    expect(client.isEnded).toBe(false);
    h.clock.advance(1);
    expect(client.isEnded).toBe(true);
  });

  test('keepalive 0 never times out', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1', { keepalive: 0 });
    h.clock.advance(30 * 24 * 3600_000);
    expect(client.isEnded).toBe(false);
  });

  test('keepalive 1 allows 1.5 s of silence and ends the stream within the second after', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1', { keepalive: 1 });
    h.clock.advance(1_499);
    expect(client.isEnded).toBe(false);
    h.clock.advance(IDLE_TICK_MS);
    expect(client.isEnded).toBe(true);
  });
});

describe('framing and stream lifecycle', () => {
  test('a packet with reserved header flags set wrongly ends the stream', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    // SUBSCRIBE must carry flags 0b0010 [MQTT-3.8.1-1]; this one carries 0b0000.
    client.sendBytes(Uint8Array.from([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x23, 0x00]));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
  });

  test('bytes no packet starts with end the stream at once, without waiting for the length they seem to declare', () => {
    const h = createMqttHarness();
    const client = h.open();
    client.sendBytes(new TextEncoder().encode('GET / HTTP/1.1\r\n'));
    expect(client.stream.log).toEqual(['end']);
  });

  test('a packet split across chunks, even inside its fixed header, is handled once whole', async () => {
    const h = createMqttHarness();
    const client = h.open();
    const bytes = encode(connectPacket('d1'));
    client.sendBytes(bytes.subarray(0, 1));
    client.sendBytes(bytes.subarray(1, 20));
    await flush();
    expect(client.stream.log).toEqual([]);
    client.sendBytes(bytes.subarray(20));
    await flush();
    expect(client.stream.log).toEqual(['connack']);
  });

  test('a QoS 2 acknowledgement or a CONNACK from the device ends the stream', async () => {
    for (const packet of [{ cmd: 'pubrec', messageId: 1 } as const, { cmd: 'pubcomp', messageId: 1 } as const, { cmd: 'connack', returnCode: 0, sessionPresent: false } as const]) {
      const h = createMqttHarness();
      const client = await h.connect('d1');
      client.send(packet);
      await flush();
      expect(client.stream.log).toEqual(['connack', 'end']);
    }
  });

  test('DISCONNECT ends the stream and records the device Disconnected', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send({ cmd: 'disconnect' });
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.sessions.get('d1')).toBeUndefined();
    expect(h.fakes.connections.of('d1').map((c) => c.isConnected)).toEqual([true, false]);
  });

  test('packets after DISCONNECT, even in the same chunk, are ignored', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.sendBytes(Buffer.concat([Buffer.from([0xe0, 0x00]), Buffer.from([0xc0, 0x00])]));
    client.send(publishPacket('devices/d1/messages/events/', 'late', { qos: 1 }));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.fakes.telemetry.appended).toEqual([]);
    expect(client.stream.writesAfterEnd).toBe(0);
  });

  test('the transport closing closes the device session', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.connection.transportClosed();
    await flush();
    expect(client.connection.isClosed).toBe(true);
    expect(h.sessions.get('d1')).toBeUndefined();
  });

  test('packet ids for hub → device publishes wrap from 65535 to 1 and skip ids still awaiting PUBACK', () => {
    const h = createMqttHarness();
    const { connection } = h.open();
    connection.unacknowledged.set(2, 'lock-x');
    expect(connection.allocatePacketId()).toBe(1);
    expect(connection.allocatePacketId()).toBe(3);
    for (let id = 4; id < 65535; id++) connection.allocatePacketId();
    expect(connection.allocatePacketId()).toBe(65535);
    expect(connection.allocatePacketId()).toBe(1);
    expect(connection.allocatePacketId()).toBe(3);
  });
});

describe('cloud-to-device messages', () => {
  test('a queued message is published at QoS 1 on the devicebound topic with its properties, `/` sent as %2F', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1', {
      messageId: 'm1',
      body: new TextEncoder().encode('hi there'),
      systemProperties: { 'message-id': 'm1', to: '/devices/d1/messages/devicebound', 'correlation-id': 'c/1' },
      applicationProperties: { 'a/b': 'x y/z' },
    });
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    const [publish] = client.publishes;
    expect(publish).toMatchObject({
      qos: 1,
      dup: false,
      retain: false,
      topic: 'devices/d1/messages/devicebound/%24.mid=m1&%24.to=%2Fdevices%2Fd1%2Fmessages%2Fdevicebound&%24.cid=c%2F1&a%2Fb=x%20y%2Fz',
    });
    expect(publish!.topic.split('/')).toHaveLength(5);
    expect(text(publish!.payload)).toBe('hi there');
    expect(publish!.messageId).toBeGreaterThan(0);
  });

  test("the device's PUBACK completes the message", async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    const messageId = client.publishes[0]!.messageId!;
    expect(h.fakes.messages.settlements).toEqual([]);
    client.send({ cmd: 'puback', messageId });
    await flush();
    expect(h.fakes.messages.settlements).toEqual([{ deviceId: 'd1', lockToken: 'lock-1', outcome: 'complete' }]);
    expect(h.fakes.messages.lockedCount).toBe(0);
  });

  test('a message queued while subscribed is published when the hub announces it', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    h.fakes.messages.enqueue('d1', { applicationProperties: { k: 'v' } });
    h.sessions.c2dQueued('d1');
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual(['devices/d1/messages/devicebound/k=v']);
  });

  test('without a C2D subscription nothing is published', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    await client.subscribe(METHODS);
    h.sessions.c2dQueued('d1');
    await flush();
    expect(client.publishes).toEqual([]);
  });

  test('a second message does not wait for the first PUBACK while the window (default 10) has room', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    expect(client.publishes).toHaveLength(2);
    expect(new Set(client.publishes.map((p) => p.messageId)).size).toBe(2);
  });

  test('the 11th message waits for a PUBACK when 10 are unacknowledged', async () => {
    const h = createMqttHarness();
    for (let i = 0; i < 11; i++) h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    expect(client.publishes).toHaveLength(10);
    client.send({ cmd: 'puback', messageId: client.publishes[3]!.messageId! });
    await flush();
    expect(client.publishes).toHaveLength(11);
  });

  test('with a window of 1 the second message waits for the first PUBACK', async () => {
    const h = createMqttHarness({ sessionOptions: { maxC2dInFlight: 1 } });
    h.fakes.messages.enqueue('d1', { messageId: 'first' });
    h.fakes.messages.enqueue('d1', { messageId: 'second' });
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    expect(client.publishes).toHaveLength(1);
    client.send({ cmd: 'puback', messageId: client.publishes[0]!.messageId! });
    await flush();
    expect(client.publishes).toHaveLength(2);
  });

  test('closing the stream abandons unacknowledged messages, which are redelivered with DUP set', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    h.fakes.messages.enqueue('d1');
    const first = await h.connect('d1');
    await first.subscribe(C2D);
    first.send({ cmd: 'puback', messageId: first.publishes[0]!.messageId! });
    await flush();
    first.connection.transportClosed();
    await flush();
    expect(h.fakes.messages.settlements.map((s) => [s.lockToken, s.outcome])).toEqual([
      ['lock-1', 'complete'],
      ['lock-2', 'abandon'],
    ]);
    expect(h.fakes.messages.queuedCount('d1')).toBe(1);
    const second = await h.connect('d1');
    await second.subscribe(C2D);
    expect(second.publishes.map((p) => p.dup)).toEqual([true]);
  });

  test('a PUBACK for an unknown packet id, or a repeated one, settles nothing more and keeps the connection', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    const messageId = client.publishes[0]!.messageId!;
    client.send({ cmd: 'puback', messageId: messageId + 100 }, { cmd: 'puback', messageId }, { cmd: 'puback', messageId });
    await flush();
    expect(h.fakes.messages.settlements).toHaveLength(1);
    expect(client.isEnded).toBe(false);
  });

  test('a PUBACK whose lock was lost keeps the connection open', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    h.fakes.messages.failSettlesWith(new HubError('DeviceMessageLockLost', 'lock expired'));
    client.send({ cmd: 'puback', messageId: client.publishes[0]!.messageId! });
    await flush();
    expect(client.isEnded).toBe(false);
  });

  test('an unexpected failure settling a PUBACK ends the stream', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    h.fakes.messages.failSettlesWith(new Error('store crashed'));
    client.send({ cmd: 'puback', messageId: client.publishes[0]!.messageId! });
    await flush();
    expect(client.isEnded).toBe(true);
  });
});

describe('direct methods', () => {
  async function listening(h: MqttHarness): Promise<MqttTestClient> {
    const client = await h.connect('d1');
    await client.subscribe(METHODS);
    return client;
  }

  test('a service invocation is published on the method topic with the request id and the JSON payload', async () => {
    const h = createMqttHarness();
    const client = await listening(h);
    void h.sessions.get('d1')!.invokeMethod('reboot', { delaySeconds: 5 }, 30_000);
    await flush();
    expect(client.publishes).toEqual([expect.objectContaining({ topic: '$iothub/methods/POST/reboot/?$rid=1', qos: 0 })]);
    expect(JSON.parse(text(client.publishes[0]!.payload))).toEqual({ delaySeconds: 5 });
  });

  test('a null payload is sent as the JSON text `null`, never empty', async () => {
    const h = createMqttHarness();
    const client = await listening(h);
    void h.sessions.get('d1')!.invokeMethod('ping', null, 30_000);
    await flush();
    expect(text(client.publishes[0]!.payload)).toBe('null');
  });

  test('the response on $iothub/methods/res/200 resolves the invocation with the parsed payload', async () => {
    const h = createMqttHarness();
    const client = await listening(h);
    const result = h.sessions.get('d1')!.invokeMethod('reboot', null, 30_000);
    await flush();
    const rid = new URL(`mqtt://x/${client.publishes[0]!.topic}`).searchParams.get('$rid');
    client.send(publishPacket(`$iothub/methods/res/200/?$rid=${rid}`, '{"done":true,"n":[1,2]}'));
    expect(await result).toEqual({ status: 200, payload: { done: true, n: [1, 2] } });
  });

  test('an empty response body resolves with a null payload', async () => {
    const h = createMqttHarness();
    const client = await listening(h);
    const result = h.sessions.get('d1')!.invokeMethod('reboot', null, 30_000);
    await flush();
    client.send(publishPacket('$iothub/methods/res/200/?$rid=1', ''));
    expect(await result).toEqual({ status: 200, payload: null });
  });

  test('responses are matched by request id when two calls are pending', async () => {
    const h = createMqttHarness();
    const client = await listening(h);
    const session = h.sessions.get('d1')!;
    const first = session.invokeMethod('a', 1, 30_000);
    const second = session.invokeMethod('b', 2, 30_000);
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual(['$iothub/methods/POST/a/?$rid=1', '$iothub/methods/POST/b/?$rid=2']);
    client.send(publishPacket('$iothub/methods/res/201/?$rid=2', '"two"'), publishPacket('$iothub/methods/res/200/?$rid=1', '"one"'));
    expect(await first).toEqual({ status: 200, payload: 'one' });
    expect(await second).toEqual({ status: 201, payload: 'two' });
  });

  test('a pending invocation fails with DeviceConnectionClosedRemotely when the stream closes', async () => {
    const h = createMqttHarness();
    const client = await listening(h);
    const result = caught(h.sessions.get('d1')!.invokeMethod('reboot', null, 30_000));
    await flush();
    client.connection.transportClosed();
    const error = await result;
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('DeviceConnectionClosedRemotely');
  });

  test('an invocation the device does not answer in time fails with GatewayTimeout', async () => {
    const h = createMqttHarness();
    await listening(h);
    const result = caught(h.sessions.get('d1')!.invokeMethod('reboot', null, 30_000));
    await flush();
    h.clock.advance(30_000);
    expect((await result as HubError).code).toBe('GatewayTimeout');
  });
});

describe('desired properties', () => {
  test('a desired patch is published on the desired topic with its $version, body included', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(DESIRED);
    const patch = { color: 'blue', nested: { on: true }, $version: 5 };
    h.sessions.desiredPatched({ deviceId: 'd1', moduleId: null }, patch);
    await flush();
    expect(client.publishes).toEqual([expect.objectContaining({ topic: '$iothub/twin/PATCH/properties/desired/?$version=5', qos: 0 })]);
    expect(JSON.parse(text(client.publishes[0]!.payload))).toEqual(patch);
  });

  test("a module's desired patch reaches the module connection, not the device connection", async () => {
    const h = createMqttHarness();
    const device = await h.connect('d1');
    const module = await h.connect('d1/m1');
    await device.subscribe(DESIRED);
    await module.subscribe(DESIRED);
    h.sessions.desiredPatched({ deviceId: 'd1', moduleId: 'm1' }, { a: 1, $version: 2 });
    await flush();
    expect(module.publishes).toHaveLength(1);
    expect(device.publishes).toEqual([]);
  });
});

describe('persistent sessions', () => {
  async function subscribedThenGone(h: MqttHarness, filters = [C2D, METHODS, DESIRED, TWIN_RESPONSES]): Promise<void> {
    const first = await h.connect('d1', { clean: false });
    expect(first.connack?.sessionPresent).toBe(false);
    await first.subscribe(...filters);
    first.connection.transportClosed();
    await flush();
  }

  test('a reconnect with clean=0 gets sessionPresent 1, and C2D, methods, desired and twin responses work without subscribing again', async () => {
    const h = createMqttHarness();
    await subscribedThenGone(h);
    h.fakes.messages.enqueue('d1', { applicationProperties: { n: '1' } });
    const client = await h.connect('d1', { clean: false });
    expect(client.connack).toMatchObject({ returnCode: 0, sessionPresent: true });
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual(['devices/d1/messages/devicebound/n=1']);

    const result = h.sessions.get('d1')!.invokeMethod('reboot', null, 30_000);
    h.sessions.desiredPatched({ deviceId: 'd1', moduleId: null }, { a: 1, $version: 9 });
    client.send(publishPacket('$iothub/twin/GET/?$rid=g1', ' '));
    await flush();
    expect(client.publishes.map((p) => p.topic).slice(1).sort()).toEqual(
      ['$iothub/methods/POST/reboot/?$rid=1', '$iothub/twin/PATCH/properties/desired/?$version=9', '$iothub/twin/res/200/?$rid=g1'].sort(),
    );
    client.send(publishPacket('$iothub/methods/res/200/?$rid=1', '{}'));
    expect(await result).toEqual({ status: 200, payload: {} });
  });

  test('SAS renewal: a clean=0 reconnect while the old connection is still up takes over with the session present', async () => {
    const h = createMqttHarness();
    const old = await h.connect('d1', { clean: false });
    await old.subscribe(C2D, METHODS);
    const renewed = await h.connect('d1', { clean: false });
    expect(old.isEnded).toBe(true);
    expect(renewed.connack?.sessionPresent).toBe(true);
    h.fakes.messages.enqueue('d1');
    h.sessions.c2dQueued('d1');
    await flush();
    expect(renewed.publishes).toHaveLength(1);
    expect(old.publishes).toEqual([]);
    expect(h.sessions.get('d1')!.isMethodsEnabled).toBe(true);
  });

  test('a reconnect with clean=1 forgets the stored session', async () => {
    const h = createMqttHarness();
    await subscribedThenGone(h);
    h.fakes.messages.enqueue('d1');
    const clean = await h.connect('d1', { clean: true });
    expect(clean.connack?.sessionPresent).toBe(false);
    await flush();
    expect(clean.publishes).toEqual([]);
    expect(h.sessions.get('d1')!.isMethodsEnabled).toBe(false);
    clean.connection.transportClosed();
    await flush();
    const again = await h.connect('d1', { clean: false });
    expect(again.connack?.sessionPresent).toBe(false);
    await flush();
    expect(again.publishes).toEqual([]);
  });

  test('a filter unsubscribed before the reconnect stays unsubscribed', async () => {
    const h = createMqttHarness();
    const first = await h.connect('d1', { clean: false });
    await first.subscribe(C2D, METHODS);
    first.send({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: [C2D] });
    await flush();
    first.connection.transportClosed();
    await flush();
    h.fakes.messages.enqueue('d1');
    const second = await h.connect('d1', { clean: false });
    await flush();
    expect(second.connack?.sessionPresent).toBe(true);
    expect(second.publishes).toEqual([]);
    expect(h.sessions.get('d1')!.isMethodsEnabled).toBe(true);
  });

  test("another client id does not inherit a device's stored session", async () => {
    const h = createMqttHarness();
    await subscribedThenGone(h);
    const other = await h.connect('d2', { clean: false });
    expect(other.connack?.sessionPresent).toBe(false);
  });

  test('a refused CONNECT with clean=1 leaves the stored session in place', async () => {
    const h = createMqttHarness();
    await subscribedThenGone(h);
    h.authenticator.refuseWith(new HubError('IotHubUnauthorized', 'expired'));
    const refused = h.open();
    refused.send(connectPacket('d1', { clean: true }));
    await flush();
    expect(refused.connack?.returnCode).toBe(5);
    h.authenticator.refuseWith(undefined);
    const back = await h.connect('d1', { clean: false });
    expect(back.connack?.sessionPresent).toBe(true);
  });
});

describe('takeover', () => {
  test('a second connection for the same identity ends the first stream and owns the session', async () => {
    const h = createMqttHarness();
    const first = await h.connect('d1');
    const second = await h.connect('d1');
    expect(first.stream.log).toEqual(['connack', 'end']);
    expect(second.connack?.returnCode).toBe(0);
    expect(second.isEnded).toBe(false);
    expect(h.sessions.get('d1')).toBe(second.connection.session);
    expect(h.fakes.connections.of('d1').map((c) => c.isConnected)).toEqual([true, true]);
  });

  test('packets on the taken-over stream are ignored', async () => {
    const h = createMqttHarness();
    const first = await h.connect('d1');
    await h.connect('d1');
    first.send(publishPacket('devices/d1/messages/events/', 'late', { qos: 1 }));
    await flush();
    expect(h.fakes.telemetry.appended).toEqual([]);
    expect(first.stream.writesAfterEnd).toBe(0);
  });

  test('a message unacknowledged on the old connection is redelivered on the new one', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1', { messageId: 'm1' });
    const first = await h.connect('d1');
    await first.subscribe(C2D);
    expect(first.publishes).toHaveLength(1);
    const second = await h.connect('d1');
    await second.subscribe(C2D);
    expect(h.fakes.messages.settlements.map((s) => s.outcome)).toEqual(['abandon']);
    expect(second.publishes).toHaveLength(1);
  });

  test('a device and its module are different identities and do not take each other over', async () => {
    const h = createMqttHarness();
    const device = await h.connect('d1');
    const module = await h.connect('d1/m1');
    expect(device.isEnded).toBe(false);
    expect(module.isEnded).toBe(false);
  });
});

describe('token expiry', () => {
  test('a SAS connection ends when its token expires', async () => {
    const h = createMqttHarness();
    h.authenticator.identityFor = (credentials) => deviceIdentity(credentials.deviceId, { tokenExpiresAtMs: h.clock.now() + 60_000 });
    const client = await h.connect('d1');
    h.clock.advance(59_999);
    expect(client.isEnded).toBe(false);
    h.clock.advance(1);
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.sessions.get('d1')).toBeUndefined();
  });
});
