/**
 * Cuts one connection's byte stream into whole MQTT control packets by their fixed header: the
 * type and flags byte [MQTT-2.2.2] and the Remaining Length [MQTT-2.2.3], both checked as soon as
 * they arrive, before any payload is waited for. Between chunks it holds nothing, unless a
 * packet is split across chunks; then only that packet's bytes so far (never a buffer of the
 * declared size, which a client could declare and never send). Decoding a packet's contents is
 * packet-decoder.ts's job.
 * @module
 */

/** The Remaining Length takes at most four bytes [MQTT-2.2.3]. */
const MAX_LENGTH_BYTES = 4;

/** The byte stream broke MQTT's framing; the connection must close. */
export class FramingError extends Error {
  override readonly name = 'FramingError';
  constructor(
    /** `packet_too_large` or `malformed_packet`: the connection's close event. */
    readonly event: string,
    readonly fields: Record<string, unknown>,
  ) {
    super(event);
  }
}

/**
 * What is wrong with a packet's first byte, if anything: types 0 and 15 are reserved in 3.1.1,
 * and each type's flags must be as listed [MQTT-2.2.2-1, 2] (PUBLISH's are its own, but QoS 3
 * does not exist [MQTT-3.3.1-4]).
 */
function firstByteError(byte: number): string | undefined {
  const type = byte >> 4;
  const flags = byte & 0x0f;
  if (type === 0 || type === 15) return `Packet type ${type} is reserved`;
  if (type === 3) return (flags & 0x06) === 0x06 ? 'A PUBLISH must not have both QoS bits set' : undefined;
  const required = type === 6 || type === 8 || type === 10 ? 0x02 : 0x00;
  return flags === required ? undefined : `Invalid header flags for packet type ${type}`;
}

/**
 * The length of the packet starting at `offset` (fixed header included), or undefined when its
 * fixed header has not fully arrived yet. Throws FramingError for a first byte no packet starts
 * with, or a Remaining Length over `maxRemainingBytes` (before any of the payload is buffered)
 * or longer than four bytes.
 */
function packetLength(bytes: Uint8Array, offset: number, maxRemainingBytes: number): number | undefined {
  const error = firstByteError(bytes[offset]!);
  if (error) throw new FramingError('malformed_packet', { error });
  let remaining = 0;
  for (let i = 0; i < MAX_LENGTH_BYTES; i++) {
    const at = offset + 1 + i;
    if (at >= bytes.byteLength) return undefined;
    const byte = bytes[at]!;
    remaining += (byte & 0x7f) * 128 ** i;
    if ((byte & 0x80) === 0) {
      if (remaining > maxRemainingBytes) throw new FramingError('packet_too_large', { declaredBytes: remaining });
      return 1 + i + 1 + remaining;
    }
  }
  throw new FramingError('malformed_packet', { error: 'The Remaining Length is longer than four bytes' });
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

/** One connection's reader: feed it the chunks in the order they arrive. */
export class FrameReader {
  readonly #maxRemainingBytes: number;
  /** The received parts of a packet split across chunks, oldest first; undefined between packets. */
  #parts: Uint8Array[] | undefined;
  #partBytes = 0;
  /** The split packet's whole length, once its fixed header is complete. */
  #partLength: number | undefined;

  /** `maxRemainingBytes`: a packet declaring a longer Remaining Length ends the connection unread. */
  constructor(maxRemainingBytes: number) {
    this.#maxRemainingBytes = maxRemainingBytes;
  }

  /**
   * Calls `onPacket` with each whole packet `chunk` completes, in order. A packet that lies in
   * one chunk is passed as a view of it, without copying. Throws FramingError.
   */
  read(chunk: Uint8Array, onPacket: (packet: Uint8Array) => void): void {
    let bytes = chunk;
    if (this.#parts) {
      bytes = this.#continueSplit(chunk, onPacket);
      if (bytes.byteLength === 0) return;
    }
    let offset = 0;
    while (offset < bytes.byteLength) {
      const length = packetLength(bytes, offset, this.#maxRemainingBytes);
      if (length === undefined || offset + length > bytes.byteLength) {
        // Copied, so the start of a packet does not keep the whole chunk it came in alive.
        this.#parts = [bytes.slice(offset)];
        this.#partBytes = bytes.byteLength - offset;
        this.#partLength = length;
        return;
      }
      onPacket(bytes.subarray(offset, offset + length));
      offset += length;
    }
  }

  /** Adds `chunk` to the split packet; passes it on once whole. Returns what follows it in `chunk`. */
  #continueSplit(chunk: Uint8Array, onPacket: (packet: Uint8Array) => void): Uint8Array {
    const parts = this.#parts!;
    if (this.#partLength === undefined) {
      // The fixed header itself was split (at most four bytes so far): join it to this chunk and start over.
      const joined = concat([...parts, chunk], this.#partBytes + chunk.byteLength);
      this.#parts = undefined;
      return joined;
    }
    const taken = Math.min(this.#partLength - this.#partBytes, chunk.byteLength);
    // A view: the chunk is kept only while it is all packet, and only until the packet is whole.
    parts.push(chunk.subarray(0, taken));
    this.#partBytes += taken;
    if (this.#partBytes < this.#partLength) return chunk.subarray(chunk.byteLength);
    this.#parts = undefined;
    onPacket(concat(parts, this.#partLength));
    return chunk.subarray(taken);
  }
}
