/**
 * X.509 certificate facts the hub decides on (wire digest §3): thumbprints, the subject CN,
 * validity, and building a chain from a presented leaf to a trust anchor with signatures checked.
 * Pure functions over node:crypto `X509Certificate`; which anchors to trust and what a failure
 * means for a client is the caller's business (device-authenticator.ts, ca-certificates.ts).
 * Revocation (CRL/OCSP) is deliberately not checked: IoT Hub does not check it either.
 * @module
 */

import { X509Certificate } from 'node:crypto';

export interface Thumbprints {
  /** SHA-1 of the DER, 40 uppercase hex digits: what the SDK e2e tests register. */
  sha1: string;
  /** SHA-256 of the DER, 64 uppercase hex digits. */
  sha256: string;
}

/** A chain longer than this (leaf + intermediates) is refused rather than walked. */
export const MAX_CHAIN_LENGTH = 10;

/** Parses one DER certificate; undefined when the bytes are not one. */
export function parseDerCertificate(der: Uint8Array): X509Certificate | undefined {
  try {
    return new X509Certificate(Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  } catch {
    return undefined;
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The DER of every certificate in `text`: PEM blocks (`BEGIN CERTIFICATE`), one base64 DER
 * certificate without armour (what ARM accepts as "certificate" content), or base64 of PEM text
 * (how the SDK e2e suite passes `IOTHUB_CA_ROOT_CERT`). Empty when none of these.
 */
export function certificateDersFromText(text: string): Uint8Array[] {
  const blocks = [...text.matchAll(PEM_BLOCK)].map((match) => Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
  if (blocks.length > 0) return blocks;
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact)) return [];
  const decoded = Buffer.from(compact, 'base64');
  const asText = decoded.toString('latin1');
  return asText.includes('-----BEGIN CERTIFICATE-----') ? certificateDersFromText(asText) : [decoded];
}

/** The certificate as a PEM block with 64-character lines and a trailing newline. */
export function toPem(certificate: X509Certificate): string {
  const lines = certificate.raw.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export function thumbprintsOf(certificate: X509Certificate): Thumbprints {
  return {
    sha1: certificate.fingerprint.replaceAll(':', '').toUpperCase(),
    sha256: certificate.fingerprint256.replaceAll(':', '').toUpperCase(),
  };
}

/** True when `thumbprint` (SHA-1 or SHA-256 hex, any case, colons allowed) names this certificate. */
export function matchesThumbprint(thumbprints: Thumbprints, thumbprint: string | null | undefined): boolean {
  if (!thumbprint) return false;
  const wanted = thumbprint.replaceAll(':', '').toUpperCase();
  return wanted === thumbprints.sha1 || wanted === thumbprints.sha256;
}

/** `notBefore`/`notAfter` as epoch milliseconds. */
export function validityOf(certificate: X509Certificate): { notBeforeMs: number; notAfterMs: number } {
  return { notBeforeMs: certificate.validFromDate.getTime(), notAfterMs: certificate.validToDate.getTime() };
}

/**
 * True when `nowMs` lies inside the validity period, widened by `skewMs` on both sides: devices
 * create certificates "now" by their own clock (wire digest §14 item 7).
 */
export function isWithinValidity(certificate: X509Certificate, nowMs: number, skewMs = 0): boolean {
  const { notBeforeMs, notAfterMs } = validityOf(certificate);
  return notBeforeMs - skewMs <= nowMs && nowMs <= notAfterMs + skewMs;
}

/** The subject as one line, `CN=…, O=…` (for display only: never compare on it). */
export function subjectText(certificate: X509Certificate): string {
  return certificate.subject.split('\n').join(', ');
}

/**
 * Every commonName (OID 2.5.4.3) value of the subject, read from the DER itself: node's `subject`
 * string escapes and joins values ambiguously, and a CN is compared with a deviceId exactly.
 */
export function subjectCommonNames(certificate: X509Certificate): string[] {
  try {
    return commonNamesOf(readSubject(new Uint8Array(certificate.raw)));
  } catch {
    return [];
  }
}

export type ChainFailure =
  /** No certificate presented or registered names the issuer of a certificate in the path. */
  | 'no-issuer'
  /** A certificate names an issuer whose key did not produce its signature (forged or mismatched). */
  | 'bad-signature'
  /** An issuer is outside its validity period. */
  | 'issuer-expired'
  /** An issuer lacks basicConstraints CA:true. */
  | 'issuer-not-ca'
  | 'too-long';

export type ChainResult<A> = { isTrusted: true; anchor: A } | { isTrusted: false; failure: ChainFailure };

/**
 * Walks from `leaf` up through `intermediates` (the rest of the presented chain, any order)
 * until a certificate is issued by one of `anchors`. Every link must match by name and key
 * identifiers (`checkIssued`), carry a valid signature by the issuer's key, and the issuer must be
 * a CA within its validity period. The leaf's own validity is the caller's check.
 */
export function buildChain<A extends { certificate: X509Certificate }>(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly A[],
  nowMs: number,
  skewMs = 0,
): ChainResult<A> {
  const used = new Set<X509Certificate>();
  let current = leaf;
  let failure: ChainFailure = 'no-issuer';
  for (let length = 1; length <= MAX_CHAIN_LENGTH; length++) {
    for (const anchor of anchors) {
      const problem = issuerProblem(current, anchor.certificate, nowMs, skewMs);
      if (problem === undefined) return { isTrusted: true, anchor };
      if (problem !== 'no-issuer') failure = problem;
    }
    let next: X509Certificate | undefined;
    for (const candidate of intermediates) {
      if (used.has(candidate) || candidate === current) continue;
      const problem = issuerProblem(current, candidate, nowMs, skewMs);
      if (problem === undefined) {
        next = candidate;
        break;
      }
      if (problem !== 'no-issuer') failure = problem;
    }
    if (!next) return { isTrusted: false, failure };
    used.add(next);
    current = next;
  }
  return { isTrusted: false, failure: 'too-long' };
}

function issuerProblem(subject: X509Certificate, issuer: X509Certificate, nowMs: number, skewMs: number): ChainFailure | undefined {
  if (!subject.checkIssued(issuer)) return 'no-issuer';
  if (!issuer.ca) return 'issuer-not-ca';
  if (!safeVerify(subject, issuer)) return 'bad-signature';
  if (!isWithinValidity(issuer, nowMs, skewMs)) return 'issuer-expired';
  return undefined;
}

function safeVerify(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

// A minimal DER reader: just enough of RFC 5280 to reach the subject Name of a certificate.

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
const TAG_OID = 0x06;
const TAG_VERSION = 0xa0;
const OID_COMMON_NAME = [0x55, 0x04, 0x03];

function readTlv(bytes: Uint8Array, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new Error('truncated DER');
  const tag = bytes[offset]!;
  let length = bytes[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > limit) throw new Error('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!;
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new Error('truncated DER');
  return { tag, start, end };
}

function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const list: Tlv[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readTlv(bytes, offset, parent.end);
    list.push(child);
    offset = child.end;
  }
  return list;
}

/** Certificate → tbsCertificate → [version] serial signature issuer validity **subject**. */
function readSubject(der: Uint8Array): { bytes: Uint8Array; name: Tlv } {
  const certificate = readTlv(der, 0, der.length);
  const [tbs] = children(der, certificate);
  if (certificate.tag !== TAG_SEQUENCE || tbs?.tag !== TAG_SEQUENCE) throw new Error('not a certificate');
  const fields = children(der, tbs);
  const first = fields[0]?.tag === TAG_VERSION ? 1 : 0;
  const name = fields[first + 4];
  if (name?.tag !== TAG_SEQUENCE) throw new Error('no subject');
  return { bytes: der, name };
}

function commonNamesOf({ bytes, name }: { bytes: Uint8Array; name: Tlv }): string[] {
  const names: string[] = [];
  for (const rdn of children(bytes, name)) {
    if (rdn.tag !== TAG_SET) continue;
    for (const attribute of children(bytes, rdn)) {
      const [type, value] = children(bytes, attribute);
      if (type?.tag !== TAG_OID || !value) continue;
      const oid = bytes.subarray(type.start, type.end);
      if (oid.length === OID_COMMON_NAME.length && OID_COMMON_NAME.every((b, i) => oid[i] === b)) {
        names.push(decodeDirectoryString(value.tag, bytes.subarray(value.start, value.end)));
      }
    }
  }
  return names;
}

function decodeDirectoryString(tag: number, content: Uint8Array): string {
  switch (tag) {
    case 0x0c: // UTF8String
      return new TextDecoder('utf-8', { fatal: true }).decode(content);
    case 0x1e: {
      // BMPString: UTF-16 big-endian
      const swapped = Buffer.from(content);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    case 0x1c: {
      // UniversalString: UTF-32 big-endian
      let text = '';
      for (let i = 0; i + 3 < content.length; i += 4) {
        text += String.fromCodePoint(((content[i]! << 24) | (content[i + 1]! << 16) | (content[i + 2]! << 8) | content[i + 3]!) >>> 0);
      }
      return text;
    }
    default: // PrintableString, IA5String, TeletexString: single bytes
      return Buffer.from(content).toString('latin1');
  }
}
