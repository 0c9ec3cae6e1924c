/**
 * Just enough ASN.1 DER (ITU-T X.690) to write the hub's own certificates and to find a few
 * fields in a CA certificate: definite lengths, the universal types X.509 uses, context tags.
 * Writers return complete TLVs; the reader walks TLVs of a buffer without copying.
 * @module
 */

const TAG_BOOLEAN = 0x01;
const TAG_INTEGER = 0x02;
const TAG_BIT_STRING = 0x03;
const TAG_OCTET_STRING = 0x04;
const TAG_NULL = 0x05;
const TAG_OID = 0x06;
const TAG_UTF8_STRING = 0x0c;
const TAG_IA5_STRING = 0x16;
const TAG_UTC_TIME = 0x17;
const TAG_GENERALIZED_TIME = 0x18;
const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
const CONTEXT_PRIMITIVE = 0x80;
const CONTEXT_CONSTRUCTED = 0xa0;

/** Tag, length and contents. Lengths of 128 bytes and more use the long form. */
export function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const length = contents.reduce((sum, part) => sum + part.length, 0);
  const lengthBytes: number[] = [];
  if (length < 0x80) {
    lengthBytes.push(length);
  } else {
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest & 0xff);
    lengthBytes.unshift(0x80 | lengthBytes.length);
  }
  return Buffer.concat([Uint8Array.of(tag, ...lengthBytes), ...contents]);
}

export const sequence = (...items: Uint8Array[]): Uint8Array => tlv(TAG_SEQUENCE, ...items);
export const set = (...items: Uint8Array[]): Uint8Array => tlv(TAG_SET, ...items);
export const boolean = (value: boolean): Uint8Array => tlv(TAG_BOOLEAN, Uint8Array.of(value ? 0xff : 0));
export const nullValue = (): Uint8Array => tlv(TAG_NULL);
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(TAG_OCTET_STRING, bytes);
export const utf8String = (text: string): Uint8Array => tlv(TAG_UTF8_STRING, Buffer.from(text, 'utf8'));
export const ia5String = (text: string): Uint8Array => tlv(TAG_IA5_STRING, Buffer.from(text, 'latin1'));
/** The tag of `[n]` EXPLICIT, as `readElement` reports it. */
export const explicitTag = (n: number): number => CONTEXT_CONSTRUCTED | n;
/** `[n]` wrapping a whole element (EXPLICIT tagging). */
export const explicit = (n: number, element: Uint8Array): Uint8Array => tlv(explicitTag(n), element);
/** `[n]` replacing a primitive element's tag (IMPLICIT tagging). */
export const implicit = (n: number, contents: Uint8Array): Uint8Array => tlv(CONTEXT_PRIMITIVE | n, contents);

/** A BIT STRING of whole bytes (no unused bits), like a signature. */
export function bitString(bytes: Uint8Array): Uint8Array {
  return tlv(TAG_BIT_STRING, Uint8Array.of(0), bytes);
}

/** A named-bit BIT STRING (like keyUsage) from the numbers of the bits that are set. */
export function namedBits(setBits: number[]): Uint8Array {
  const highest = Math.max(...setBits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of setBits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return tlv(TAG_BIT_STRING, Uint8Array.of(7 - (highest & 7)), bytes);
}

/** A non-negative INTEGER from its big-endian magnitude (a leading zero is added when the high bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return trimmed[0]! & 0x80 ? tlv(TAG_INTEGER, Uint8Array.of(0), trimmed) : tlv(TAG_INTEGER, trimmed);
}

export function objectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const bytes = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift(0x80 | (rest & 0x7f));
    bytes.push(...base128);
  }
  return tlv(TAG_OID, Uint8Array.from(bytes));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always UTC to the second. */
export function time(date: Date): Uint8Array {
  const iso = date.toISOString(); // 2026-11-22T22:17:21.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261122221721Z
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(TAG_UTC_TIME, Buffer.from(digits.slice(2), 'latin1')) : tlv(TAG_GENERALIZED_TIME, Buffer.from(digits, 'latin1'));
}

/** One element found by `readElement`: its tag and where its whole TLV and its contents are. */
export interface DerElement {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Reads the TLV at `offset`; throws on a truncated or indefinite-length element. */
export function readElement(der: Uint8Array, offset: number): DerElement {
  const tag = der[offset];
  let lengthByte = der[offset + 1];
  if (tag === undefined || lengthByte === undefined) throw new Error('DER: truncated element');
  let contentStart = offset + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new Error('DER: unsupported length');
    length = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = der[contentStart + i];
      if (lengthByte === undefined) throw new Error('DER: truncated length');
      length = length * 256 + lengthByte;
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error('DER: element runs past the end');
  return { tag, start: offset, contentStart, end };
}

/** The elements inside a constructed element, in order. */
export function childrenOf(der: Uint8Array, parent: DerElement): DerElement[] {
  const children: DerElement[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const child = readElement(der, offset);
    children.push(child);
    offset = child.end;
  }
  return children;
}
