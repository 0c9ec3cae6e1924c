import { describe, expect, test } from 'bun:test';
import { FrameSizeGuard, MAX_FRAME_BYTES } from './frame-size-guard.ts';

const protocolHeader = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 1, 0, 0]);
const frame = (size: number, bodyBytes = size - 8) => {
  const bytes = Buffer.alloc(8 + Math.max(0, bodyBytes));
  bytes.writeUInt32BE(size, 0);
  return bytes;
};

describe('FrameSizeGuard', () => {
  test('protocol headers and frames within the limit pass, whole or byte by byte', () => {
    const stream = Buffer.concat([protocolHeader, frame(64), protocolHeader, frame(MAX_FRAME_BYTES, 100)]);
    expect(new FrameSizeGuard().inspect(stream)).toBeUndefined();
    const guard = new FrameSizeGuard();
    for (const byte of Buffer.concat([protocolHeader, frame(20), frame(9)])) expect(guard.inspect(Uint8Array.of(byte))).toBeUndefined();
  });

  test('a header declaring more than the limit is refused before the body arrives', () => {
    const guard = new FrameSizeGuard();
    expect(guard.inspect(protocolHeader)).toBeUndefined();
    expect(guard.inspect(frame(1024 * 1024 * 1024, 0))).toContain('more than');
  });

  test('a header declaring less than a frame header is refused', () => {
    expect(new FrameSizeGuard().inspect(Buffer.concat([protocolHeader, frame(4, 0)]))).toContain('less than');
  });

  test('a frame header split across chunks is read whole', () => {
    const guard = new FrameSizeGuard();
    const oversized = frame(MAX_FRAME_BYTES + 1, 0);
    expect(guard.inspect(oversized.subarray(0, 3))).toBeUndefined();
    expect(guard.inspect(oversized.subarray(3))).toContain('more than');
  });
});
