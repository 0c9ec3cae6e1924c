/**
 * Decodes whole MQTT 3.1.1 control packets, as FrameReader cuts them. PUBLISH, nearly every
 * packet a device sends, is decoded here directly; every other packet by one mqtt-packet parser
 * shared by every connection. A parser per connection cost about a kilobyte per idle connection
 * (an EventEmitter, a `bl` stream and its states), and it kept the connection's CONNECT packet,
 * SAS token and first chunk included, for the connection's whole life.
 * @module
 */

import mqttPacket, { type IPublishPacket, type Packet, type QoS } from 'mqtt-packet';

const PUBLISH = 3;
const SHORTER_THAN_DECLARED = 'The packet is shorter than its Remaining Length';

let decoded: Packet | undefined;
let failure: Error | undefined;

function createParser() {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (packet) => (decoded = packet));
  parser.on('error', (error) => (failure = error));
  return parser;
}

let parser = createParser();

/**
 * The packet `bytes` hold: exactly one whole packet, fixed header included. Throws for a
 * malformed one (reserved flags set wrongly, a truncated field, …).
 */
export function decodePacket(bytes: Uint8Array): Packet {
  if (bytes[0]! >> 4 === PUBLISH) return decodePublish(bytes);
  try {
    parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (failure) throw failure;
    if (!decoded) throw new Error(SHORTER_THAN_DECLARED);
    return decoded;
  } finally {
    // mqtt-packet keeps a CONNECT as its settings (the protocol level of later packets), and a
    // failed parse leaves a half-read packet behind: after either, the next packet gets a fresh parser.
    if (failure || !decoded || decoded.cmd === 'connect') parser = createParser();
    decoded = undefined;
    failure = undefined;
  }
}

/**
 * A PUBLISH as mqtt-packet decodes it (the same fields and the same refusals), without its
 * general parser: under telemetry load that parser (a buffer list, a state machine, a debug call
 * per step) took about a sixth of the hub's CPU. The payload is a view of `bytes`, as
 * mqtt-packet's is when a packet arrives in one chunk.
 */
function decodePublish(bytes: Uint8Array): IPublishPacket {
  const flags = bytes[0]! & 0x0f;
  const qos = ((flags >> 1) & 0x03) as QoS | 3;
  if (qos === 3) throw new Error('Packet must not have both QoS bits set to 1');
  let at = 1;
  let length = 0;
  for (let multiplier = 1; ; multiplier *= 128) {
    if (at > 4) throw new Error('The Remaining Length is longer than four bytes');
    if (at >= bytes.byteLength) throw new Error(SHORTER_THAN_DECLARED);
    const byte = bytes[at++]!;
    length += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) break;
  }
  const end = at + length;
  if (end > bytes.byteLength) throw new Error(SHORTER_THAN_DECLARED);
  if (at + 2 > end) throw new Error('Cannot parse topic');
  const topicEnd = at + 2 + ((bytes[at]! << 8) | bytes[at + 1]!);
  if (topicEnd > end) throw new Error('Cannot parse topic');
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, end);
  const topic = buffer.toString('utf8', at + 2, topicEnd);
  at = topicEnd;
  const packet: IPublishPacket = { cmd: 'publish', retain: (flags & 0x01) !== 0, qos, dup: (flags & 0x08) !== 0, length, topic, payload: buffer };
  if (qos > 0) {
    if (at + 2 > end) throw new Error('Cannot parse messageId');
    packet.messageId = (bytes[at]! << 8) | bytes[at + 1]!;
    at += 2;
  }
  packet.payload = buffer.subarray(at, end);
  return packet;
}
