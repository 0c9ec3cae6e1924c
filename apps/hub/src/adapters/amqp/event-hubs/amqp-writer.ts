/**
 * A minimal AMQP 1.0 type encoder (OASIS AMQP 1.0 part 1, §1.6) for messages the hub builds
 * itself, choosing exactly the encodings rhea's `message.encode` chooses, so the bytes on the
 * wire do not depend on which of the two wrote them: str8/str32, sym8/sym32 and vbin8/vbin32 by
 * length (over 255 bytes takes the 32-bit form), smalllong for -128…127, list0 for an empty list,
 * and list32/map32 otherwise. It writes into large shared slabs and hands out views of them, so
 * encoding a message allocates no buffer of its own. Decoding stays rhea's.
 * @module
 */

/** The encoding of the values `write` writes, for constants written with `AmqpWriter.encoded`. */
export function encodeOnce(write: (writer: AmqpWriter) => void): Buffer {
  const writer = new AmqpWriter(256);
  writer.start();
  write(writer);
  return Buffer.from(writer.finish());
}

/** Bytes per slab: one slab holds a hundred or so typical events. */
const SLAB_BYTES = 64 * 1024;
const TWO_TO_32 = 2 ** 32;

/** Format codes (§1.6). */
const Code = {
  Null: 0x40,
  List0: 0x45,
  SmallUlong: 0x53,
  SmallLong: 0x55,
  Long: 0x81,
  Timestamp: 0x83,
  Vbin8: 0xa0,
  Str8: 0xa1,
  Sym8: 0xa3,
  Vbin32: 0xb0,
  Str32: 0xb1,
  Sym32: 0xb3,
  List32: 0xd0,
  Map32: 0xd1,
} as const;

/**
 * Writes one value after another; `finish()` returns the bytes since `start()`. A list32 or map32
 * opens with `openList`/`openMap` and closes with `close`, which fills in its size and count.
 * @example
 * writer.start();
 * writer.descriptor(0x74);
 * const map = writer.openMap();
 * writer.string('alert');
 * writer.string('high');
 * writer.close(map, 2);
 * const bytes = writer.finish();
 */
export class AmqpWriter {
  #slab: Buffer;
  #start = 0;
  #position = 0;

  constructor(slabBytes = SLAB_BYTES) {
    this.#slab = Buffer.allocUnsafe(slabBytes);
  }

  start(): void {
    this.#start = this.#position;
  }

  finish(): Buffer {
    return this.#slab.subarray(this.#start, this.#position);
  }

  /** A described value's constructor: 0x00 and the descriptor as a smallulong. */
  descriptor(code: number): void {
    this.#reserve(3);
    this.#slab[this.#position] = 0x00;
    this.#slab[this.#position + 1] = Code.SmallUlong;
    this.#slab[this.#position + 2] = code;
    this.#position += 3;
  }

  null(): void {
    this.#byte(Code.Null);
  }

  emptyList(): void {
    this.#byte(Code.List0);
  }

  /** Starts a list32; returns what `close` needs. */
  openList(): number {
    return this.#openCompound(Code.List32);
  }

  /** Starts a map32; returns what `close` needs. */
  openMap(): number {
    return this.#openCompound(Code.Map32);
  }

  /** Ends the list or map `open…` returned `sizeAt` for, holding `count` items (a map counts keys and values). */
  close(sizeAt: number, count: number): void {
    const at = this.#start + sizeAt;
    this.#slab.writeUInt32BE(this.#position - at - 4, at);
    this.#slab.writeUInt32BE(count, at + 4);
  }

  long(value: number): void {
    if (value >= -128 && value <= 127) {
      this.#reserve(2);
      this.#slab[this.#position] = Code.SmallLong;
      this.#slab.writeInt8(value, this.#position + 1);
      this.#position += 2;
    } else {
      this.#fixed64(Code.Long, value);
    }
  }

  /** Milliseconds since the Unix epoch. */
  timestamp(ms: number): void {
    this.#fixed64(Code.Timestamp, ms);
  }

  string(value: string): void {
    this.#variable(value, Code.Str8, Code.Str32, 'utf8');
  }

  /** Symbols are ASCII; like rhea, the width follows the UTF-8 length and the bytes the `ascii` encoding. */
  symbol(value: string): void {
    this.#variable(value, Code.Sym8, Code.Sym32, 'ascii');
  }

  /** Bytes encoded once (such as a constant symbol by `encodeOnce`), written as they are. */
  encoded(bytes: Uint8Array): void {
    this.#reserve(bytes.byteLength);
    this.#slab.set(bytes, this.#position);
    this.#position += bytes.byteLength;
  }

  binary(bytes: Uint8Array): void {
    const length = bytes.byteLength;
    const isShort = length <= 255;
    this.#reserve(length + 5);
    const slab = this.#slab;
    slab[this.#position] = isShort ? Code.Vbin8 : Code.Vbin32;
    if (isShort) slab[this.#position + 1] = length;
    else slab.writeUInt32BE(length, this.#position + 1);
    this.#position += isShort ? 2 : 5;
    slab.set(bytes, this.#position);
    this.#position += length;
  }

  #openCompound(code: number): number {
    this.#reserve(9);
    this.#slab[this.#position] = code;
    const sizeAt = this.#position + 1 - this.#start;
    this.#position += 9;
    return sizeAt;
  }

  #variable(value: string, shortCode: number, longCode: number, encoding: 'utf8' | 'ascii'): void {
    // UTF-8 is at most 3 bytes per UTF-16 unit, `ascii` exactly 1. Written as short first; the
    // few values over 255 bytes move up to make room for a 4-byte length.
    this.#reserve(5 + value.length * 3);
    const slab = this.#slab;
    const at = this.#position;
    const written = slab.write(value, at + 2, encoding);
    // rhea picks the width by the UTF-8 length, also for symbols written as `ascii` (85 units are at most 255 bytes).
    const isShort = encoding === 'utf8' ? written <= 255 : written <= 85 || Buffer.byteLength(value, 'utf8') <= 255;
    if (isShort) {
      slab[at] = shortCode;
      slab[at + 1] = written;
      this.#position = at + 2 + written;
    } else {
      slab.copyWithin(at + 5, at + 2, at + 2 + written);
      slab[at] = longCode;
      slab.writeUInt32BE(written, at + 1);
      this.#position = at + 5 + written;
    }
  }

  #fixed64(code: number, value: number): void {
    this.#reserve(9);
    const high = Math.floor(value / TWO_TO_32);
    this.#slab[this.#position] = code;
    this.#slab.writeInt32BE(high, this.#position + 1);
    this.#slab.writeUInt32BE(value - high * TWO_TO_32, this.#position + 5);
    this.#position += 9;
  }

  #byte(value: number): void {
    this.#reserve(1);
    this.#slab[this.#position++] = value;
  }

  /** Room for `bytes` more; a message that outgrows the slab moves, as far as written, to a new one. */
  #reserve(bytes: number): void {
    if (this.#position + bytes <= this.#slab.length) return;
    const written = this.#position - this.#start;
    const slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, 2 * (written + bytes)));
    this.#slab.copy(slab, 0, this.#start, this.#position);
    this.#slab = slab;
    this.#start = 0;
    this.#position = written;
  }
}
