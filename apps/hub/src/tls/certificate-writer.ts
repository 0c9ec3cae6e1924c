/**
 * Writes the two X.509 v3 certificate profiles the hub issues (its local CA and the server
 * certificate that CA signs) with node:crypto keys and signatures, and reads the two fields of a
 * CA certificate that issuing needs (its subject and subjectKeyIdentifier).
 * @module
 */

import { createHash, type KeyObject, sign } from 'node:crypto';
import { isIP } from 'node:net';
import * as der from './der.ts';

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extendedKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** keyUsage bit numbers (RFC 5280 4.2.1.3). */
export const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;

export interface CertificateFields {
  /** Positive, big-endian. */
  serialNumber: Uint8Array;
  /** DER Name of the signer (the subject itself for a self-signed certificate). */
  issuer: Uint8Array;
  /** DER Name, see `commonName`. */
  subject: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** DER Extensions, see `extension`. */
  extensions: Uint8Array[];
  /** The issuer's private key: EC or RSA. */
  signingKey: KeyObject;
}

/** Signs the certificate and returns it as PEM (with a trailing newline). */
export function writeCertificate(fields: CertificateFields): string {
  const algorithm = signatureAlgorithmOf(fields.signingKey);
  const tbsCertificate = der.sequence(
    der.explicit(0, der.unsignedInteger(Uint8Array.of(2))), // v3
    der.unsignedInteger(fields.serialNumber),
    algorithm,
    fields.issuer,
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    fields.subject,
    fields.publicKey.export({ type: 'spki', format: 'der' }),
    der.explicit(3, der.sequence(...fields.extensions)),
  );
  // EC signatures come DER-encoded (ECDSA-Sig-Value), as X.509 wants them.
  const signature = sign('sha256', tbsCertificate, fields.signingKey);
  return pemOf(der.sequence(tbsCertificate, algorithm, der.bitString(signature)));
}

/** A Name holding only a common name. */
export function commonName(name: string): Uint8Array {
  return der.sequence(der.set(der.sequence(der.objectIdentifier(OID.commonName), der.utf8String(name))));
}

/** The extensions the hub's certificates carry; the constraints TLS clients check are critical. */
export const extension = {
  basicConstraints: (isCa: boolean) => extensionOf(OID.basicConstraints, true, der.sequence(...(isCa ? [der.boolean(true)] : []))),
  keyUsage: (bits: number[]) => extensionOf(OID.keyUsage, true, der.namedBits(bits)),
  serverAuth: () => extensionOf(OID.extendedKeyUsage, false, der.sequence(der.objectIdentifier(OID.serverAuth))),
  /** DNS names, and IPv4/IPv6 literals as IP addresses. */
  subjectAltName: (names: string[]) => extensionOf(OID.subjectAltName, false, der.sequence(...names.map(generalName))),
  subjectKeyIdentifier: (keyId: Uint8Array) => extensionOf(OID.subjectKeyIdentifier, false, der.octetString(keyId)),
  authorityKeyIdentifier: (keyId: Uint8Array) => extensionOf(OID.authorityKeyIdentifier, false, der.sequence(der.implicit(0, keyId))),
};

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifierOf(publicKey: KeyObject): Uint8Array {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const [, subjectPublicKey] = der.childrenOf(spki, der.readElement(spki, 0));
  return createHash('sha1').update(spki.subarray(subjectPublicKey!.contentStart + 1, subjectPublicKey!.end)).digest();
}

/** The subject Name (DER, as found) and subjectKeyIdentifier of a DER certificate. */
export function readIssuerFields(certificate: Uint8Array): { subject: Uint8Array; subjectKeyIdentifier: Uint8Array | undefined } {
  const [tbs] = der.childrenOf(certificate, der.readElement(certificate, 0));
  const fields = der.childrenOf(certificate, tbs!);
  const first = fields[0]!.tag === der.explicitTag(0) ? 1 : 0; // version is optional
  const subject = fields[first + 4]!;
  const extensions = fields.find((field) => field.tag === der.explicitTag(3));
  return {
    subject: certificate.subarray(subject.start, subject.end),
    subjectKeyIdentifier: extensions && findSubjectKeyIdentifier(certificate, extensions),
  };
}

function findSubjectKeyIdentifier(certificate: Uint8Array, extensions: der.DerElement): Uint8Array | undefined {
  const wanted = Buffer.from(der.objectIdentifier(OID.subjectKeyIdentifier));
  const [list] = der.childrenOf(certificate, extensions);
  for (const item of der.childrenOf(certificate, list!)) {
    const parts = der.childrenOf(certificate, item);
    if (!wanted.equals(certificate.subarray(parts[0]!.start, parts[0]!.end))) continue;
    const value = parts[parts.length - 1]!; // OCTET STRING holding the KeyIdentifier OCTET STRING
    const keyId = der.readElement(certificate, value.contentStart);
    return certificate.subarray(keyId.contentStart, keyId.end);
  }
  return undefined;
}

function extensionOf(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return der.sequence(der.objectIdentifier(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

function signatureAlgorithmOf(key: KeyObject): Uint8Array {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return der.sequence(der.objectIdentifier(OID.ecdsaWithSha256));
    case 'rsa':
      return der.sequence(der.objectIdentifier(OID.sha256WithRsaEncryption), der.nullValue());
    default:
      throw new Error(`cannot sign certificates with a ${key.asymmetricKeyType} key; only EC and RSA keys are supported`);
  }
}

/** GeneralName: dNSName [2] IA5String or iPAddress [7] OCTET STRING. */
function generalName(name: string): Uint8Array {
  return isIP(name) ? der.implicit(7, ipAddressBytes(name)) : der.implicit(2, Buffer.from(name, 'latin1'));
}

/** 4 bytes for IPv4, 16 for IPv6 (`::` expanded, an IPv4 tail such as `::ffff:10.0.0.1` included). */
function ipAddressBytes(address: string): Uint8Array {
  if (isIP(address) === 4) return Uint8Array.from(address.split('.').map(Number));
  let text = address.replace(/%.*$/, '');
  const ipv4Tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, ipv4Tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const groupsOf = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const [head, tail] = text.split('::');
  const before = groupsOf(head);
  const after = groupsOf(tail);
  const groups = [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

function pemOf(certificate: Uint8Array): string {
  const lines = Buffer.from(certificate).toString('base64').match(/.{1,64}/g)!;
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
