/**
 * Decodes whole MQTT 3.1.1 control packets, as FrameReader cuts them, with one mqtt-packet parser
 * shared by every connection. A parser per connection cost about a kilobyte per idle connection
 * (an EventEmitter, a `bl` stream and its states), and it kept the connection's CONNECT packet,
 * SAS token and first chunk included, for the connection's whole life.
 * @module
 */

import mqttPacket, { type Packet } from 'mqtt-packet';

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
  try {
    parser.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (failure) throw failure;
    if (!decoded) throw new Error('The packet is shorter than its Remaining Length');
    return decoded;
  } finally {
    // mqtt-packet keeps a CONNECT as its settings (the protocol level of later packets), and a
    // failed parse leaves a half-read packet behind: after either, the next packet gets a fresh parser.
    if (failure || !decoded || decoded.cmd === 'connect') parser = createParser();
    decoded = undefined;
    failure = undefined;
  }
}
