import { describe, expect, test } from 'bun:test';
import mqttPacket, { type IConnectPacket, type ISubscribePacket, type Packet } from 'mqtt-packet';
import { decodePacket } from './packet-decoder.ts';

const encode = (packet: Packet, protocolVersion = 4) => new Uint8Array(mqttPacket.generate(packet, { protocolVersion }));

const connect = (protocolVersion: 4 | 5): IConnectPacket => ({
  cmd: 'connect',
  protocolId: 'MQTT',
  protocolVersion,
  clean: true,
  keepalive: 60,
  clientId: 'd1',
  username: 'hub.local/d1/?api-version=2021-04-12',
  password: Buffer.from('SharedAccessSignature sr=hub.local%2Fdevices%2Fd1&sig=c2ln&se=1893456000'),
});
const subscribe: ISubscribePacket = { cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'devices/d1/messages/devicebound/#', qos: 1 }] };

describe('decodePacket', () => {
  test('each packet a device sends decodes to what was encoded', () => {
    const packets: Packet[] = [
      connect(4),
      { cmd: 'publish', topic: 'devices/d1/messages/events/', payload: Buffer.from('{"t":1}'), qos: 1, messageId: 3, dup: false, retain: false },
      { cmd: 'puback', messageId: 3 },
      subscribe,
      { cmd: 'unsubscribe', messageId: 8, unsubscriptions: ['$iothub/methods/POST/#'] },
      { cmd: 'pingreq' },
      { cmd: 'disconnect' },
    ];
    for (const packet of packets) expect(decodePacket(encode(packet))).toMatchObject(packet as object);
  });

  test('a malformed packet throws, and the next packet decodes normally', () => {
    const badFlags = encode({ cmd: 'pingreq' });
    badFlags[0] = badFlags[0]! | 0x01;
    expect(() => decodePacket(badFlags)).toThrow();
    expect(decodePacket(encode(subscribe))).toMatchObject(subscribe);
  });

  test('a packet shorter than its Remaining Length throws, and the next packet decodes normally', () => {
    expect(() => decodePacket(encode(subscribe).subarray(0, 10))).toThrow();
    expect(decodePacket(encode({ cmd: 'pingreq' }))).toMatchObject({ cmd: 'pingreq' });
  });

  test("an MQTT 5 CONNECT on one connection does not change how another connection's 3.1.1 packets decode", () => {
    expect(decodePacket(encode(connect(5), 5))).toMatchObject({ cmd: 'connect', protocolVersion: 5 });
    // Read as MQTT 5, this SUBSCRIBE's packet id would be followed by a properties length.
    expect(decodePacket(encode(subscribe))).toMatchObject(subscribe);
  });
});
