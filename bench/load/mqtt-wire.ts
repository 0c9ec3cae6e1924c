/**
 * The MQTT 3.1.1 the load generator speaks: packets are encoded once with mqtt-packet (PUBLISH
 * templates get their packet id patched in place), and incoming frames are split by hand, since
 * a worker reads hundreds of thousands of 4-byte PUBACKs a second.
 * @module
 */

import mqttPacket from 'mqtt-packet';

export { mqttPacket };

export const PUBACK = 4;
export const CONNACK = 2;
export const PUBLISH = 3;
export const SUBACK = 9;

export const DISCONNECT_PACKET = Buffer.from([0xe0, 0x00]);

export function connectPacket(options: { clientId: string; username?: string; password?: string; clean: boolean; keepaliveS: number }): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId: options.clientId,
    clean: options.clean,
    keepalive: options.keepaliveS,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: Buffer.from(options.password) }),
  });
}

export function subscribePacket(topic: string, qos: 0 | 1, messageId: number): Buffer {
  return mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
}

/** A PUBLISH whose 2-byte packet id (QoS 1) sits at `idOffset`. */
export interface PublishTemplate {
  bytes: Buffer;
  idOffset: number;
}

export function publishTemplate(topic: string, payload: Buffer | string, qos: 0 | 1): PublishTemplate {
  const bytes = mqttPacket.generate({ cmd: 'publish', topic, payload, qos, messageId: qos ? 1 : undefined, retain: false, dup: false } as mqttPacket.IPublishPacket);
  let offset = 1;
  while (bytes[offset]! & 0x80) offset++;
  return { bytes, idOffset: offset + 1 + 2 + Buffer.byteLength(topic) };
}

export function pubackPacket(messageId: number): Buffer {
  return Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff]);
}

export interface IncomingPacket {
  type: number;
  flags: number;
  /** The variable header and payload. */
  body: Buffer;
}

/** Splits a byte stream into MQTT packets. */
export class FrameReader {
  private pending: Buffer | undefined;

  push(chunk: Buffer, onPacket: (packet: IncomingPacket) => void): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (data.length - at >= 2) {
      let length = 0;
      let multiplier = 1;
      let cursor = at + 1;
      let complete = false;
      while (cursor < data.length) {
        const byte = data[cursor++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if (!(byte & 0x80)) {
          complete = true;
          break;
        }
      }
      if (!complete || data.length - cursor < length) break;
      const first = data[at]!;
      onPacket({ type: first >> 4, flags: first & 0x0f, body: data.subarray(cursor, cursor + length) });
      at = cursor + length;
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
  }
}

/** Topic, packet id (0 for QoS 0) and payload of an incoming PUBLISH. */
export function parsePublish(packet: IncomingPacket): { topic: string; messageId: number; payload: Buffer } {
  const topicLength = packet.body.readUInt16BE(0);
  const topic = packet.body.toString('utf8', 2, 2 + topicLength);
  const qos = (packet.flags >> 1) & 3;
  const messageId = qos > 0 ? packet.body.readUInt16BE(2 + topicLength) : 0;
  return { topic, messageId, payload: packet.body.subarray(2 + topicLength + (qos > 0 ? 2 : 0)) };
}
