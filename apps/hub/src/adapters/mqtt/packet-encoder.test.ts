import { describe, expect, test } from 'bun:test';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';
import { encodePacket } from './packet-encoder.ts';

const publish = (fields: Partial<IPublishPacket>): IPublishPacket => ({
  cmd: 'publish',
  topic: 'devices/d1/messages/devicebound/%24.mid=m1&%24.to=%2Fdevices%2Fd1%2Fmessages%2Fdevicebound',
  payload: Buffer.from('{"t":1}'),
  qos: 0,
  dup: false,
  retain: false,
  ...fields,
});

describe('encodePacket', () => {
  test('each packet the hub sends has the bytes mqtt-packet generates for it', () => {
    const packets: Packet[] = [
      { cmd: 'puback', messageId: 1 },
      { cmd: 'puback', messageId: 65535 },
      { cmd: 'puback', messageId: 258 },
      publish({}),
      publish({ qos: 1, messageId: 7 }),
      publish({ qos: 1, messageId: 65535, dup: true }),
      publish({ retain: true }),
      publish({ payload: Buffer.alloc(0) }),
      publish({ topic: '$iothub/twin/res/200/?$rid=ü-1', payload: 'a string payload' }),
      { cmd: 'connack', returnCode: 0, sessionPresent: true },
      { cmd: 'suback', messageId: 3, granted: [1, 0, 128] },
      { cmd: 'pingresp' },
    ];
    for (const packet of packets) expect(encodePacket(packet)).toEqual(mqttPacket.generate(packet));
  });

  test('every Remaining Length width, at each boundary, encodes as mqtt-packet encodes it', () => {
    const topic = 't';
    // Remaining Length = 2 + topic + 2 (packet id) + payload.
    for (const remaining of [127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
      const packet = publish({ topic, qos: 1, messageId: 9, payload: Buffer.alloc(remaining - 5, 0x61) });
      expect(encodePacket(packet)).toEqual(mqttPacket.generate(packet));
    }
  });
});
