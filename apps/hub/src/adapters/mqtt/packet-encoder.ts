/**
 * Encodes the packets the hub sends. PUBACK and PUBLISH, one per message each way, are written
 * here directly into one buffer; mqtt-packet's generator builds them from a list of parts and
 * cost the hub a few percent of its CPU under telemetry load. Every other packet is mqtt-packet's.
 * @module
 */

import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

/** The Remaining Length's bytes [MQTT-2.2.3]. */
function lengthBytes(length: number): number {
  return length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;
}

function encodePuback(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}

function encodePublish(packet: IPublishPacket): Buffer {
  const qos = packet.qos;
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  const topicBytes = Buffer.byteLength(packet.topic);
  const remaining = 2 + topicBytes + (qos > 0 ? 2 : 0) + payload.byteLength;
  const bytes = Buffer.allocUnsafe(1 + lengthBytes(remaining) + remaining);
  bytes[0] = 0x30 | (packet.dup ? 0x08 : 0) | (qos << 1) | (packet.retain ? 0x01 : 0);
  let at = 1;
  for (let left = remaining; ; ) {
    const digit = left % 128;
    left = Math.floor(left / 128);
    bytes[at++] = left > 0 ? digit | 0x80 : digit;
    if (left === 0) break;
  }
  bytes.writeUInt16BE(topicBytes, at);
  at += 2 + bytes.write(packet.topic, at + 2, 'utf8');
  if (qos > 0) at = bytes.writeUInt16BE(packet.messageId!, at);
  bytes.set(payload, at);
  return bytes;
}

export function encodePacket(packet: Packet): Buffer {
  if (packet.cmd === 'puback') return encodePuback(packet.messageId!);
  if (packet.cmd === 'publish') return encodePublish(packet);
  return mqttPacket.generate(packet);
}
