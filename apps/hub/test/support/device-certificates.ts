/**
 * X.509 device certificates for tests: self-signed leaves (thumbprint authentication) and leaves
 * issued by a test CA (certificateAuthority authentication, CN = deviceId).
 * @module
 */

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface DeviceCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-1 thumbprint, 40 uppercase hex digits, as IoT Hub registers it. */
  sha1Thumbprint: string;
  sha256Thumbprint: string;
}

export interface TestCertificateAuthority {
  certPem: string;
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key)).toString('base64');
  return `-----BEGIN PRIVATE KEY-----\n${der.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

async function describe(cert: x509.X509Certificate, keys: CryptoKeyPair): Promise<DeviceCertificate> {
  const hex = async (algorithm: string) => Buffer.from(await cert.getThumbprint(algorithm)).toString('hex').toUpperCase();
  return {
    certPem: cert.toString('pem'),
    keyPem: await pkcs8Pem(keys.privateKey),
    sha1Thumbprint: await hex('SHA-1'),
    sha256Thumbprint: await hex('SHA-256'),
  };
}

const validity = () => ({ notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86_400_000) });
const serial = () => Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1');
const leafExtensions = () => [
  new x509.BasicConstraintsExtension(false),
  new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
  new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
];

export async function createSelfSignedDeviceCertificate(commonName: string): Promise<DeviceCertificate> {
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: leafExtensions(),
    ...validity(),
  });
  return describe(cert, keys);
}

export async function createTestCertificateAuthority(commonName = 'Tributary Test Device CA'): Promise<TestCertificateAuthority> {
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
  });
  return { certPem: cert.toString('pem'), cert, keys };
}

/** A leaf for `deviceId` issued by `ca`; its PEM is the leaf followed by the CA (the chain a device presents). */
export async function createCaSignedDeviceCertificate(ca: TestCertificateAuthority, deviceId: string): Promise<DeviceCertificate> {
  const keys = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${deviceId}`,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [...leafExtensions(), await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey)],
    ...validity(),
  });
  const described = await describe(cert, keys);
  return { ...described, certPem: described.certPem + '\n' + ca.certPem };
}
