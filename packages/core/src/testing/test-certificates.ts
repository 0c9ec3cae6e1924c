/**
 * X.509 certificates made on the fly for tests: CAs, intermediates, device leaves, self-signed
 * certificates and deliberate forgeries. Uses @peculiar/x509 (a devDependency); never imported by
 * production code. ECDSA P-256 unless RSA is asked for, so tests stay fast.
 * @module
 */

// @peculiar/x509 depends on tsyringe, which needs the Reflect metadata API that Bun does not ship.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createHash, randomBytes } from 'node:crypto';

export interface TestCertificate {
  /** DER bytes, what a TLS peer presents. */
  der: Uint8Array;
  pem: string;
  keys: CryptoKeyPair;
  /** The subject as @peculiar/x509 names it, for issuing children. */
  subjectName: x509.Name;
  algorithm: 'ecdsa' | 'rsa';
  /** SHA-1 thumbprint, 40 uppercase hex digits. */
  sha1: string;
  /** SHA-256 thumbprint, 64 uppercase hex digits. */
  sha256: string;
}

export interface TestCertificateOptions {
  /** Subject CN. */
  commonName: string;
  /** The signer; absent for a self-signed certificate. */
  issuer?: TestCertificate;
  /** basicConstraints CA:true (false by default). */
  isCa?: boolean;
  notBeforeMs: number;
  notAfterMs: number;
  algorithm?: 'ecdsa' | 'rsa';
  /**
   * Forgery: name `issuer` as the issuer but sign with these keys instead of its own, as a chain
   * made by someone who copied a CA's name but not its key.
   */
  forgeWithKeys?: CryptoKeyPair;
}

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const;

export function generateTestKeys(algorithm: 'ecdsa' | 'rsa' = 'ecdsa'): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(algorithm === 'rsa' ? RSA : ECDSA, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** Issues a certificate as the options say. No key identifier extensions, so chains link by name alone. */
export async function issueTestCertificate(options: TestCertificateOptions): Promise<TestCertificate> {
  const algorithm = options.algorithm ?? 'ecdsa';
  const keys = await generateTestKeys(algorithm);
  const subjectName = new x509.Name([{ CN: [options.commonName] }]);
  const signer = options.issuer;
  const signingKeys = options.forgeWithKeys ?? signer?.keys ?? keys;
  const signingAlgorithm = signingKeys.privateKey.algorithm.name === 'ECDSA' ? ECDSA : RSA;
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(options.isCa ?? false, undefined, true)];
  if (options.isCa) extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName,
    issuer: signer?.subjectName ?? subjectName,
    notBefore: new Date(options.notBeforeMs),
    notAfter: new Date(options.notAfterMs),
    publicKey: keys.publicKey,
    signingKey: signingKeys.privateKey,
    signingAlgorithm,
    extensions,
  });
  const der = new Uint8Array(certificate.rawData);
  return {
    der,
    pem: `${certificate.toString('pem')}\n`,
    keys,
    subjectName,
    algorithm,
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/** 16 random bytes with the high bit clear (positive) and a non-zero first byte. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}
