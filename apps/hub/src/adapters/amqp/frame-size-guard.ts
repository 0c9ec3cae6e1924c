/**
 * Bounds what one AMQP connection can make the hub buffer. rhea never checks an incoming frame's
 * declared size, so a client could claim a 1 GB frame and be buffered while it trickles. This guard
 * watches the same bytes rhea reads and reports a violation as soon as a frame header declares
 * more than MAX_FRAME_BYTES (the max-frame-size we advertise), or less than a frame header.
 * @module
 */

/** The largest frame we accept; also advertised as our max-frame-size, so clients split larger messages. */
export const MAX_FRAME_BYTES = 1024 * 1024;
const FRAME_HEADER_BYTES = 8;

export class FrameSizeGuard {
  #header = Buffer.alloc(FRAME_HEADER_BYTES);
  #headerFill = 0;
  #remainingInFrame = 0;

  /** Inspects the next bytes; returns a reason when the connection must close, else undefined. */
  inspect(chunk: Uint8Array): string | undefined {
    let position = 0;
    while (position < chunk.byteLength) {
      if (this.#remainingInFrame > 0) {
        const skipped = Math.min(this.#remainingInFrame, chunk.byteLength - position);
        this.#remainingInFrame -= skipped;
        position += skipped;
        continue;
      }
      const copied = Math.min(FRAME_HEADER_BYTES - this.#headerFill, chunk.byteLength - position);
      this.#header.set(chunk.subarray(position, position + copied), this.#headerFill);
      this.#headerFill += copied;
      position += copied;
      if (this.#headerFill < FRAME_HEADER_BYTES) break;
      this.#headerFill = 0;
      // A protocol header (`AMQP` + id + version) starts the connection and follows SASL.
      if (this.#header.toString('latin1', 0, 4) === 'AMQP') continue;
      const size = this.#header.readUInt32BE(0);
      if (size < FRAME_HEADER_BYTES) return `a frame declared ${size} bytes, less than its own header`;
      if (size > MAX_FRAME_BYTES) return `a frame declared ${size} bytes, more than the ${MAX_FRAME_BYTES} allowed`;
      this.#remainingInFrame = size - FRAME_HEADER_BYTES;
    }
    return undefined;
  }
}
