import { describe, expect, test } from 'bun:test';
import mqttPacket from 'mqtt-packet';
import { FrameReader, FramingError } from './frame-reader.ts';

const MAX = 1000;
const ping = () => mqttPacket.generate({ cmd: 'pingreq' });
const publish = (payloadBytes: number) =>
  mqttPacket.generate({ cmd: 'publish', topic: 't', payload: Buffer.alloc(payloadBytes, 7), qos: 0, dup: false, retain: false });

function join(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

/** Feeds `chunks` to a fresh reader; returns the packets it passed on, copied. */
function readAll(chunks: Uint8Array[], reader = new FrameReader(MAX)): Uint8Array[] {
  const packets: Uint8Array[] = [];
  for (const chunk of chunks) reader.read(chunk, (packet) => packets.push(Uint8Array.from(packet)));
  return packets;
}

function caught(body: () => void): FramingError {
  try {
    body();
  } catch (error) {
    if (error instanceof FramingError) return error;
    throw error;
  }
  throw new Error('no FramingError');
}

describe('FrameReader', () => {
  test('several packets in one chunk are passed on one by one, in order, as views of the chunk', () => {
    const chunk = join(ping(), publish(5), ping());
    const views: Uint8Array[] = [];
    new FrameReader(MAX).read(chunk, (packet) => views.push(packet));
    expect(views.map((view) => view.byteLength)).toEqual([2, publish(5).byteLength, 2]);
    expect(views.every((view) => view.buffer === chunk.buffer)).toBe(true);
  });

  test('packets split at every possible byte arrive whole and unchanged', () => {
    const stream = join(publish(200), ping(), publish(0));
    for (let at = 1; at < stream.byteLength; at++) {
      expect(readAll([stream.subarray(0, at), stream.subarray(at)])).toEqual([publish(200), ping(), publish(0)].map((p) => Uint8Array.from(p)));
    }
  });

  test('a packet arriving one byte per chunk, Remaining Length of two bytes included, arrives whole', () => {
    const packet = publish(300);
    expect(packet[1]! & 0x80).toBe(0x80);
    const bytes = Array.from(packet, (byte) => Uint8Array.of(byte));
    expect(readAll(bytes)).toEqual([Uint8Array.from(packet)]);
  });

  test('a packet split across chunks is passed on as a joined copy, and later packets read as before', () => {
    const reader = new FrameReader(MAX);
    const packet = publish(500);
    readAll([packet.subarray(0, 10)], reader);
    const held: Uint8Array[] = [];
    reader.read(packet.subarray(10), (whole) => held.push(whole));
    expect(held.map((whole) => Uint8Array.from(whole))).toEqual([Uint8Array.from(packet)]);
    expect(held[0]!.buffer).not.toBe(packet.buffer);
    expect(readAll([ping()], reader)).toEqual([Uint8Array.from(ping())]);
  });

  test('a Remaining Length above the maximum fails with packet_too_large before the payload arrives', () => {
    const header = publish(MAX + 1).subarray(0, 3);
    const error = caught(() => readAll([header]));
    expect(error.event).toBe('packet_too_large');
    expect(error.fields.declaredBytes).toBe(MAX + 1 + 3);
  });

  test('a Remaining Length of exactly the maximum is waited for', () => {
    const header = Uint8Array.of(0x30, ...[0xe8, 0x07]);
    expect(readAll([header])).toEqual([]);
  });

  test('a first byte with reserved flags set wrongly fails with malformed_packet before the rest arrives', () => {
    // `G` of an HTTP request: type 4 (PUBACK) with flags 0111; its Remaining Length (`E`, 69) is never waited for.
    const error = caught(() => readAll([new TextEncoder().encode('GET / HTTP/1.1\r\n')]));
    expect(error.event).toBe('malformed_packet');
    expect(caught(() => readAll([Uint8Array.of(0x80)])).event).toBe('malformed_packet');
  });

  test('the reserved packet types 0 and 15, and a PUBLISH with QoS 3, fail with malformed_packet', () => {
    for (const first of [0x00, 0xf0, 0x36]) expect(caught(() => readAll([Uint8Array.of(first, 0)])).event).toBe('malformed_packet');
  });

  test('SUBSCRIBE, UNSUBSCRIBE and PUBREL with their required flags 0010, and PUBLISH with any QoS below 3, are framed', () => {
    for (const first of [0x82, 0xa2, 0x62, 0x30, 0x3b]) expect(readAll([Uint8Array.of(first, 0)])).toHaveLength(1);
  });

  test('a Remaining Length longer than four bytes fails with malformed_packet', () => {
    expect(caught(() => readAll([Uint8Array.of(0x30, 0xff, 0xff, 0xff, 0xff, 0x01)])).event).toBe('malformed_packet');
  });
});
