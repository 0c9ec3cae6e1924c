// Owns the hub's TLS material in the data dir: the local CA (ca.pem/ca.key) and the server certificate it issues.
// Does not own listeners, config parsing or printing the NODE_EXTRA_CA_CERTS hint (callers do that).
import { X509Certificate as NodeX509, createPrivateKey, generateKeyPair, type KeyObject, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { commonName, extension, KEY_USAGE, keyIdentifierOf, readIssuerFields, writeCertificate } from './certificate-writer.ts';

export interface TlsMaterial {
  /** PEM of the server certificate followed by the CA certificate (the chain Bun.serve / Bun.listen / node:tls get as `cert`). */
  certChainPem: string;
  /** PEM (PKCS#8) private key of the server certificate. */
  keyPem: string;
  /** PEM of the CA certificate (what clients trust, e.g. NODE_EXTRA_CA_CERTS). */
  caPem: string;
  /** Absolute path of the CA certificate file in the data dir. */
  caCertPath: string;
}

const CA_CERT_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca.key';
const SERVER_CERT_FILE = 'server.pem';
const SERVER_KEY_FILE = 'server.key';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Tolerates clients whose clock runs a little behind the hub's. */
const BACKDATE_MS = 60 * 60 * 1000;
const CA_VALIDITY_MS = 3652 * DAY_MS;
/** 825 days is the longest TLS server validity Apple platforms accept for certificates from a user-added CA. */
const SERVER_VALIDITY_MS = 825 * DAY_MS;
const RENEW_BEFORE_EXPIRY_MS = 30 * DAY_MS;
/** Always in the SAN so local tools and tests can connect without configuring a HostName. */
const ALWAYS_COVERED_NAMES = ['localhost', '127.0.0.1'];
/** RFC 5280 ub-common-name: longer host names stay in the SAN only. */
const MAX_COMMON_NAME_LENGTH = 64;

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Loads the hub's CA and server certificate from `dataDir`, creating what is missing:
 *  - `ca.pem` + `ca.key` (PKCS#8 PEM, file mode 0600): if both exist they are reused (this is also how a user
 *    brings their own CA: drop the two files in the data dir). Only one of the two present is an error, so a
 *    user's CA certificate is never overwritten because its key was forgotten.
 *  - `server.pem` + `server.key`: reissued when missing, when not signed by the current CA, when not valid at
 *    `nowMs` or expiring within 30 days, or when its SAN list does not cover every name in `hostNames`.
 *
 * `hostNames` entries that are IPv4/IPv6 literals go in the SAN as IP addresses, everything else as DNS names.
 * The server cert always covers `localhost` and `127.0.0.1` in addition to `hostNames`.
 *
 * @example
 * const tls = await loadOrCreateTlsMaterial(config.dataDir, [config.hostName]);
 * Bun.serve({ port: 443, tls: { cert: tls.certChainPem, key: tls.keyPem }, fetch });
 * console.log(`export NODE_EXTRA_CA_CERTS=${tls.caCertPath}`);
 */
export async function loadOrCreateTlsMaterial(
  dataDir: string,
  hostNames: string[],
  nowMs: number = Date.now(),
): Promise<TlsMaterial> {
  const dir = resolve(dataDir);
  await mkdir(dir, { recursive: true });
  const ca = await loadOrCreateCa(dir);
  const names = normalizeHostNames([...hostNames, ...ALWAYS_COVERED_NAMES]);
  const serverName = normalizeHostNames(hostNames)[0] ?? 'localhost';

  const existing = await readPemPair(dir, SERVER_CERT_FILE, SERVER_KEY_FILE);
  let server: { certPem: string; keyPem: string };
  if (existing.certPem !== null && existing.keyPem !== null && isServerCertUsable(existing.certPem, existing.keyPem, ca.cert, names, nowMs)) {
    server = { certPem: existing.certPem, keyPem: existing.keyPem };
  } else {
    server = await issueServerCertificate(ca, serverName, names, nowMs);
    await writeFileAtomic(join(dir, SERVER_KEY_FILE), server.keyPem, 0o600);
    await writeFileAtomic(join(dir, SERVER_CERT_FILE), server.certPem, 0o644);
  }

  return {
    certChainPem: joinPem(server.certPem, ca.pem),
    keyPem: server.keyPem,
    caPem: ca.pem,
    caCertPath: join(dir, CA_CERT_FILE),
  };
}

/**
 * Creates a self-signed ECDSA P-256 CA (basicConstraints CA:true critical, keyUsage keyCertSign+cRLSign,
 * subjectKeyIdentifier) valid for 10 years. Exported so tests can pre-create a CA shared by many hubs.
 * @param commonNameText defaults to `Tributary Local CA <short random>`, so CAs from different data dirs are
 *   told apart in trust stores.
 */
export async function createCertificateAuthority(commonNameText?: string): Promise<{ certPem: string; keyPem: string }> {
  const nowMs = Date.now();
  const keys = await generateEcKeyPair();
  const name = commonName(commonNameText ?? `Tributary Local CA ${randomBytes(4).toString('hex')}`);
  const certPem = writeCertificate({
    serialNumber: randomSerialNumber(),
    issuer: name,
    subject: name,
    notBefore: new Date(nowMs - BACKDATE_MS),
    notAfter: new Date(nowMs - BACKDATE_MS + CA_VALIDITY_MS),
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [
      extension.basicConstraints(true),
      extension.keyUsage([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
      extension.subjectKeyIdentifier(keyIdentifierOf(keys.publicKey)),
    ],
  });
  return { certPem, keyPem: pkcs8PemOf(keys.privateKey) };
}

interface LoadedCa {
  /** Whole ca.pem as found (may hold intermediates after the issuing certificate). */
  pem: string;
  /** The first certificate in ca.pem: the one that signs server certificates. */
  cert: NodeX509;
  keyPem: string;
}

async function loadOrCreateCa(dir: string): Promise<LoadedCa> {
  const { certPem, keyPem } = await readPemPair(dir, CA_CERT_FILE, CA_KEY_FILE);
  if (certPem !== null && keyPem !== null) {
    const cert = new NodeX509(certPem);
    if (!cert.ca) throw new Error(`${join(dir, CA_CERT_FILE)} is not a CA certificate (basicConstraints CA:true is missing)`);
    return { pem: ensureTrailingNewline(certPem), cert, keyPem };
  }
  if (certPem !== null || keyPem !== null) {
    // Never replace half of a CA: a user who dropped in ca.pem but forgot ca.key would lose their certificate.
    const [present, missing] = certPem !== null ? [CA_CERT_FILE, CA_KEY_FILE] : [CA_KEY_FILE, CA_CERT_FILE];
    throw new Error(
      `${join(dir, present)} exists but ${join(dir, missing)} does not: provide both files of the CA, or remove ${present} to let the hub create a new CA`,
    );
  }
  const created = await createCertificateAuthority();
  // Key first: a crash between the two writes leaves a lone ca.key, which is reported rather than silently replaced.
  await writeFileAtomic(join(dir, CA_KEY_FILE), created.keyPem, 0o600);
  await writeFileAtomic(join(dir, CA_CERT_FILE), created.certPem, 0o644);
  return { pem: created.certPem, cert: new NodeX509(created.certPem), keyPem: created.keyPem };
}

async function readPemPair(dir: string, certFile: string, keyFile: string): Promise<{ certPem: string | null; keyPem: string | null }> {
  const [certPem, keyPem] = await Promise.all([readIfExists(join(dir, certFile)), readIfExists(join(dir, keyFile))]);
  return { certPem, keyPem };
}

function isServerCertUsable(certPem: string, keyPem: string, caCert: NodeX509, names: string[], nowMs: number): boolean {
  let cert: NodeX509;
  try {
    cert = new NodeX509(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return false;
  } catch {
    return false; // unreadable files are regenerated, like missing ones
  }
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return false;
  if (cert.validFromDate.getTime() > nowMs) return false;
  if (cert.validToDate.getTime() - nowMs < RENEW_BEFORE_EXPIRY_MS) return false;
  return names.every((name) => (isIP(name) ? cert.checkIP(name) !== undefined : cert.checkHost(name) !== undefined));
}

async function issueServerCertificate(
  ca: LoadedCa,
  commonNameText: string,
  names: string[],
  nowMs: number,
): Promise<{ certPem: string; keyPem: string }> {
  const caNotAfterMs = ca.cert.validToDate.getTime();
  if (caNotAfterMs <= nowMs) {
    throw new Error(
      `the CA in ${CA_CERT_FILE} expired on ${ca.cert.validToDate.toISOString()}: replace ca.pem and ca.key, or remove both to let the hub create a new CA`,
    );
  }
  const caKey = importCaSigningKey(ca);
  const caFields = readIssuerFields(ca.cert.raw);
  const keys = await generateEcKeyPair();
  const notBeforeMs = nowMs - BACKDATE_MS;
  // A certificate outliving its issuer fails verification anyway; ending with the CA makes the renewal check see it.
  const notAfterMs = Math.min(notBeforeMs + SERVER_VALIDITY_MS, caNotAfterMs);
  const certPem = writeCertificate({
    serialNumber: randomSerialNumber(),
    subject: commonName(commonNameText.length <= MAX_COMMON_NAME_LENGTH ? commonNameText : 'localhost'),
    issuer: caFields.subject,
    notBefore: new Date(notBeforeMs),
    notAfter: new Date(notAfterMs),
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      extension.basicConstraints(false),
      extension.keyUsage([KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment]),
      extension.serverAuth(),
      extension.subjectAltName(names),
      extension.subjectKeyIdentifier(keyIdentifierOf(keys.publicKey)),
      // The CA's own identifier (a user's CA may not derive it from the key hash), so chain building finds it.
      extension.authorityKeyIdentifier(caFields.subjectKeyIdentifier ?? keyIdentifierOf(ca.cert.publicKey)),
    ],
  });
  if (!new NodeX509(certPem).verify(ca.cert.publicKey)) {
    throw new Error(`${CA_KEY_FILE} does not belong to the certificate in ${CA_CERT_FILE}`);
  }
  return { certPem, keyPem: pkcs8PemOf(keys.privateKey) };
}

/** Reads ca.key for signing; a user's CA may be RSA or EC on any curve, so its key type must match ca.pem's. */
function importCaSigningKey(ca: LoadedCa): KeyObject {
  const caKeyType = ca.cert.publicKey.asymmetricKeyType;
  if (caKeyType !== 'ec' && caKeyType !== 'rsa') {
    throw new Error(`${CA_CERT_FILE} uses key type ${caKeyType}; only ECDSA and RSA CAs are supported`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(ca.keyPem);
  } catch (error) {
    throw new Error(
      `${CA_KEY_FILE} must be an unencrypted PEM private key matching ${CA_CERT_FILE}; ` +
        `convert one with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out ${CA_KEY_FILE}`,
      { cause: error },
    );
  }
  if (key.asymmetricKeyType !== caKeyType) {
    throw new Error(`${CA_KEY_FILE} does not belong to the certificate in ${CA_CERT_FILE} (a ${key.asymmetricKeyType} key for a ${caKeyType} certificate)`);
  }
  return key;
}

function generateEcKeyPair(): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  return generateKeyPairAsync('ec', { namedCurve: 'P-256' });
}

function pkcs8PemOf(privateKey: KeyObject): string {
  return ensureTrailingNewline(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
}

/** 16 random bytes with the high bit clear (positive) and a non-zero first byte (no DER re-normalisation). */
function randomSerialNumber(): Uint8Array {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes;
}

/** Lower-cased, bracket-free (`[::1]` → `::1`), without trailing dots or duplicates, in first-seen order. */
function normalizeHostNames(hostNames: string[]): string[] {
  const normalized = hostNames
    .map((name) => name.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, ''))
    .filter((name) => name.length > 0);
  return [...new Set(normalized)];
}

function ensureTrailingNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : pem + '\n';
}

function joinPem(...pems: string[]): string {
  return pems.map(ensureTrailingNewline).join('');
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Write-then-rename, so a crash never leaves a half-written certificate or key under the real name. */
async function writeFileAtomic(path: string, contents: string, mode: number): Promise<void> {
  const tmpPath = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmpPath, contents, { mode, flag: 'wx' });
    await rename(tmpPath, path);
  } catch (error) {
    await rm(tmpPath, { force: true });
    throw error;
  }
}
