import { describe, expect, test } from 'bun:test';
import { deviceUnauthorized, HubError, serverError } from '@tributary/core';
import { CONNECT_TIMEOUT_MS } from '../connection.ts';
import {
  connectPacket,
  createMqttHarness,
  encode,
  flush,
  publishPacket,
  SAS_TOKEN,
  subscribePacket,
} from '../test-harness.ts';

const CERTIFICATE_CHAIN = [new Uint8Array([0x30, 0x82, 0x01, 0x0a]), new Uint8Array([0x30, 0x82, 0x02, 0x0b])];

describe('CONNECT credentials', () => {
  test('a password is a SAS token for the device the client id names', async () => {
    const h = createMqttHarness();
    const client = h.open();
    client.send(connectPacket('d1'));
    await flush();
    expect(h.authenticator.calls).toEqual([{ kind: 'sas', deviceId: 'd1', token: SAS_TOKEN }]);
    expect('moduleId' in h.authenticator.calls[0]!).toBe(false);
  });

  test('a client id `device/module` authenticates the module', async () => {
    const h = createMqttHarness();
    const client = h.open();
    client.send(connectPacket('d1/m1'));
    await flush();
    expect(h.authenticator.calls).toEqual([{ kind: 'sas', deviceId: 'd1', moduleId: 'm1', token: SAS_TOKEN }]);
    expect(h.sessions.get('d1', 'm1')?.identity.moduleId).toBe('m1');
  });

  test('without a password the TLS client certificate chain authenticates as X.509', async () => {
    const h = createMqttHarness();
    const client = h.open({ peerCertificateChain: CERTIFICATE_CHAIN });
    client.send(connectPacket('d1', { password: undefined }));
    await flush();
    expect(h.authenticator.calls).toEqual([{ kind: 'x509', deviceId: 'd1', certificateChain: CERTIFICATE_CHAIN }]);
    expect(client.connack).toMatchObject({ returnCode: 0 });
  });

  test('an empty password with a client certificate authenticates as X.509', async () => {
    const h = createMqttHarness();
    const client = h.open({ peerCertificateChain: CERTIFICATE_CHAIN });
    client.send(connectPacket('d1/m1', { password: Buffer.alloc(0) }));
    await flush();
    expect(h.authenticator.calls).toEqual([{ kind: 'x509', deviceId: 'd1', moduleId: 'm1', certificateChain: CERTIFICATE_CHAIN }]);
  });

  test('a password wins over a client certificate', async () => {
    const h = createMqttHarness();
    const client = h.open({ peerCertificateChain: CERTIFICATE_CHAIN });
    client.send(connectPacket('d1'));
    await flush();
    expect(h.authenticator.calls.map((c) => c.kind)).toEqual(['sas']);
  });
});

describe('CONNACK', () => {
  test('an authenticated CONNECT gets CONNACK 0 without a session present, and the identity is Connected', async () => {
    const h = createMqttHarness();
    const client = h.open();
    client.send(connectPacket('d1'));
    await flush();
    expect(client.packets).toEqual([expect.objectContaining({ cmd: 'connack', returnCode: 0, sessionPresent: false })]);
    expect(client.isEnded).toBe(false);
    expect(h.sessions.get('d1')).toBeDefined();
    expect(h.fakes.connections.of('d1').map((c) => c.isConnected)).toEqual([true]);
  });

  test('a refused identity (IotHubUnauthorized) gets CONNACK 5, then the stream ends and no session opens', async () => {
    const h = createMqttHarness();
    h.authenticator.refuseWith(deviceUnauthorized('bad signature'));
    const client = h.open();
    client.send(connectPacket('d1'));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(client.connack).toMatchObject({ returnCode: 5, sessionPresent: false });
    expect(h.sessions.get('d1')).toBeUndefined();
  });

  test('an unknown device (404) is also CONNACK 5', async () => {
    const h = createMqttHarness();
    h.authenticator.refuseWith(new HubError('DeviceNotFound', 'no such device'));
    const client = h.open();
    client.send(connectPacket('d1'));
    await flush();
    expect(client.connack?.returnCode).toBe(5);
    expect(client.isEnded).toBe(true);
  });

  test('a hub failure (status 500 or 503) gets CONNACK 3 so the SDK retries', async () => {
    for (const error of [serverError(), new HubError('ServiceUnavailable', 'store down')]) {
      const h = createMqttHarness();
      h.authenticator.refuseWith(error);
      const client = h.open();
      client.send(connectPacket('d1'));
      await flush();
      expect(client.stream.log).toEqual(['connack', 'end']);
      expect(client.connack?.returnCode).toBe(3);
    }
  });

  test('an unexpected (non-HubError) authentication failure ends the stream without CONNACK', async () => {
    const h = createMqttHarness();
    h.authenticator.refuseWith(new TypeError('boom'));
    const client = h.open();
    client.send(connectPacket('d1'));
    await flush();
    expect(client.stream.log).toEqual(['end']);
    expect(h.sessions.get('d1')).toBeUndefined();
  });

  test('neither a password nor a client certificate gets CONNACK 5 without asking the authenticator', async () => {
    const h = createMqttHarness();
    const client = h.open();
    client.send(connectPacket('d1', { username: undefined, password: undefined }));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(client.connack?.returnCode).toBe(5);
    expect(h.authenticator.calls).toEqual([]);
  });

  test('protocol level 3 (MQIsdp) gets CONNACK 1 and the stream ends', async () => {
    const h = createMqttHarness();
    const client = h.open();
    client.send(connectPacket('d1', { protocolId: 'MQIsdp', protocolVersion: 3 }));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(client.connack?.returnCode).toBe(1);
    expect(h.authenticator.calls).toEqual([]);
  });

  test('protocol level 5 gets CONNACK 1 and the stream ends', async () => {
    const h = createMqttHarness();
    const client = h.open();
    client.send(connectPacket('d1', { protocolVersion: 5 }));
    await flush();
    expect(client.connack?.returnCode).toBe(1);
    expect(client.isEnded).toBe(true);
  });

  test('a client id that is not `device` or `device/module` gets CONNACK 5 without asking the authenticator', async () => {
    for (const clientId of ['d1/m1/x', 'd1/', '/m1', '', 'a//b']) {
      const h = createMqttHarness();
      const client = h.open();
      client.send(connectPacket(clientId));
      await flush();
      expect(client.stream.log).toEqual(['connack', 'end']);
      expect(client.connack?.returnCode).toBe(5);
      expect(h.authenticator.calls).toEqual([]);
    }
  });

  test('a CONNECT split byte by byte across chunks is answered once it is complete', async () => {
    const h = createMqttHarness();
    const client = h.open();
    const bytes = encode(connectPacket('d1'));
    for (let i = 0; i < bytes.length - 1; i++) client.sendBytes(bytes.subarray(i, i + 1));
    await flush();
    expect(client.packets).toEqual([]);
    client.sendBytes(bytes.subarray(bytes.length - 1));
    await flush();
    expect(client.connack?.returnCode).toBe(0);
  });
});

describe('CONNECT ordering', () => {
  test('any packet before CONNECT ends the stream with nothing written', async () => {
    for (const packet of [
      { cmd: 'pingreq' } as const,
      publishPacket('devices/d1/messages/events/', 'x', { qos: 1 }),
      subscribePacket(1, [['$iothub/methods/POST/#', 0]]),
    ]) {
      const h = createMqttHarness();
      const client = h.open();
      client.send(packet);
      await flush();
      expect(client.stream.log).toEqual(['end']);
      expect(h.fakes.telemetry.appended).toEqual([]);
    }
  });

  test('a CONNECT after a packet that ended the stream is ignored', async () => {
    const h = createMqttHarness();
    const client = h.open();
    client.send({ cmd: 'pingreq' }, connectPacket('d1'));
    await flush();
    expect(client.stream.log).toEqual(['end']);
    expect(h.authenticator.calls).toEqual([]);
  });

  test('a second CONNECT on a connected stream ends it and closes the session', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(connectPacket('d1'));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(h.authenticator.calls).toHaveLength(1);
    expect(h.sessions.get('d1')).toBeUndefined();
  });

  test('a second CONNECT while the first is still authenticating ends the stream and no session opens', async () => {
    const h = createMqttHarness();
    h.authenticator.hold();
    const client = h.open();
    client.send(connectPacket('d1'), connectPacket('d1'));
    await flush();
    expect(client.stream.log).toEqual(['end']);
    h.authenticator.release();
    await flush();
    expect(client.stream.log).toEqual(['end']);
    expect(h.sessions.get('d1')).toBeUndefined();
  });

  // MQTT 3.1.1 §3.1.4: "Clients are allowed to send further Control Packets immediately after sending a
  // CONNECT Packet; Clients need not wait for a CONNACK". The server must hold them until CONNACK, not drop
  // the connection.
  test('a SUBSCRIBE sent in the same chunk right behind CONNECT is answered after the CONNACK', async () => {
    const h = createMqttHarness();
    const client = h.open();
    const connect = encode(connectPacket('d1'));
    const subscribe = encode(subscribePacket(7, [['$iothub/methods/POST/#', 0]]));
    client.sendBytes(Buffer.concat([connect, subscribe]));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'suback']);
    expect(client.lastSuback).toMatchObject({ messageId: 7, granted: [0] });
  });
});

describe('packets pipelined behind CONNECT', () => {
  // [MQTT-3.1.4-5] if the server rejects the CONNECT it must not process any data sent after it.
  test('packets pipelined behind a refused CONNECT are not processed', async () => {
    const h = createMqttHarness();
    h.authenticator.refuseWith(deviceUnauthorized('bad signature'));
    const client = h.open();
    client.sendBytes(
      Buffer.concat([encode(connectPacket('d1')), encode(publishPacket('devices/d1/messages/events/', 'x', { qos: 1 })), encode({ cmd: 'pingreq' })]),
    );
    await flush();
    expect(client.stream.log).toEqual(['connack', 'end']);
    expect(client.connack?.returnCode).toBe(5);
    expect(h.fakes.telemetry.appended).toEqual([]);
  });
});

describe('CONNECT timeout', () => {
  test('a stream that sends no CONNECT within the timeout ends', () => {
    const h = createMqttHarness();
    const client = h.open();
    h.clock.advance(CONNECT_TIMEOUT_MS - 1);
    expect(client.isEnded).toBe(false);
    h.clock.advance(1);
    expect(client.stream.log).toEqual(['end']);
  });

  test('the CONNECT timeout is 10 s', () => {
    expect(CONNECT_TIMEOUT_MS).toBe(10_000);
  });

  test('authentication that outlasts the CONNECT timeout ends the stream and opens no session', async () => {
    const h = createMqttHarness();
    h.authenticator.hold();
    const client = h.open();
    client.send(connectPacket('d1'));
    await flush();
    h.clock.advance(CONNECT_TIMEOUT_MS);
    expect(client.stream.log).toEqual(['end']);
    h.authenticator.release();
    await flush();
    expect(client.stream.log).toEqual(['end']);
    expect(h.sessions.get('d1')).toBeUndefined();
    expect(h.fakes.connections.changes.filter((c) => c.isConnected)).toEqual([]);
  });

  test('a connected stream is no longer subject to the CONNECT timeout', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1', { keepalive: 0 });
    h.clock.advance(CONNECT_TIMEOUT_MS * 10);
    expect(client.isEnded).toBe(false);
  });
});
