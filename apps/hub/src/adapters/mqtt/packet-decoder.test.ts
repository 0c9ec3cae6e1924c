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

  describe('PUBLISH', () => {
    const parsed = (bytes: Uint8Array): Packet => {
      let packet: Packet | undefined;
      const parser = mqttPacket.parser({ protocolVersion: 4 });
      parser.on('packet', (decoded) => (packet = decoded));
      parser.parse(Buffer.from(bytes));
      return packet!;
    };
    const publish = (fields: Record<string, unknown>) =>
      encode({ cmd: 'publish', topic: 'devices/d1/messages/events/a=1', payload: Buffer.from('{"t":1}'), qos: 0, dup: false, retain: false, ...fields } as Packet);

    test('decodes every flag, packet id, topic and payload as mqtt-packet does', () => {
      const packets = [
        publish({}),
        publish({ qos: 1, messageId: 1 }),
        publish({ qos: 1, messageId: 65535, dup: true, retain: true }),
        publish({ qos: 2, messageId: 300 }),
        publish({ topic: 'devices/dü/messages/events/%24.ct=application%2Fjson', payload: Buffer.alloc(0) }),
        publish({ qos: 1, messageId: 5, payload: Buffer.alloc(20_000, 0x7b) }),
        publish({ topic: '' }),
      ];
      for (const bytes of packets) {
        const packet = decodePacket(bytes);
        expect(packet).toEqual(parsed(bytes));
        expect(Buffer.isBuffer((packet as { payload: unknown }).payload)).toBe(true);
      }
    });

    test('a topic or packet id running past the packet, a short packet and QoS 3 throw', () => {
      const withRemaining = (bytes: number[]) => new Uint8Array([0x32, bytes.length, ...bytes]);
      expect(() => decodePacket(withRemaining([0x00]))).toThrow('Cannot parse topic');
      expect(() => decodePacket(withRemaining([0x00, 0x05, 0x61]))).toThrow('Cannot parse topic');
      expect(() => decodePacket(withRemaining([0x00, 0x01, 0x61, 0x00]))).toThrow('Cannot parse messageId');
      expect(() => decodePacket(publish({ qos: 1, messageId: 2 }).subarray(0, 10))).toThrow('shorter than its Remaining Length');
      const qos3 = publish({});
      qos3[0] = qos3[0]! | 0x06;
      expect(() => decodePacket(qos3)).toThrow('both QoS bits');
    });

    test('a PUBLISH of the bytes a chunk holds decodes only its own packet, its payload a view of them', () => {
      const first = publish({ qos: 1, messageId: 3 });
      const chunk = new Uint8Array([...first, ...publish({ topic: 'other' })]);
      const packet = decodePacket(chunk.subarray(0, first.byteLength)) as { payload: Uint8Array; topic: string };
      expect(packet.topic).toBe('devices/d1/messages/events/a=1');
      expect(Buffer.from(packet.payload).toString()).toBe('{"t":1}');
      expect(packet.payload.buffer).toBe(chunk.buffer);
    });
  });
});
