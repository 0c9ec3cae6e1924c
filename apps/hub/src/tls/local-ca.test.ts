import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { createCertificateAuthority, loadOrCreateTlsMaterial, type TlsMaterial } from './local-ca.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const tempDirs: string[] = [];
const servers: { stop(closeActiveConnections?: boolean): unknown }[] = [];

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-local-ca-'));
  tempDirs.push(dir);
  return join(dir, 'nested', 'data');
}

function serveTls(material: TlsMaterial, hostname: string): number {
  const server = Bun.serve({
    hostname,
    port: 0,
    tls: { cert: material.certChainPem, key: material.keyPem },
    fetch: () => new Response('ok'),
  });
  servers.push(server);
  return server.port!;
}

type HandshakeResult = { isAuthorized: true } | { isAuthorized: false; code: string };

/** Full verification as a device SDK does it: chain against `ca` only, then the host name against the SAN. */
function handshake(options: { host: string; port: number; ca: string; servername?: string }): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const socket = connect({ ...options, rejectUnauthorized: true }, () => {
      resolve(socket.authorized ? { isAuthorized: true } : { isAuthorized: false, code: String(socket.authorizationError) });
      socket.end();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ isAuthorized: false, code: error.code ?? error.message }));
  });
}

async function fileBytes(dir: string, name: string): Promise<string> {
  return readFile(join(dir, name), 'utf8');
}

afterEach(() => {
  for (const server of servers.splice(0)) server.stop(true);
});

afterAll(async () => {
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('TLS handshake with the generated material', () => {
  test('a client trusting only caPem verifies the chain for localhost and a DNS host name from hostNames', async () => {
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), ['hub.example.test']);
    const port = serveTls(material, '127.0.0.1');

    expect(await handshake({ host: '127.0.0.1', port, ca: material.caPem, servername: 'localhost' })).toEqual({ isAuthorized: true });
    expect(await handshake({ host: '127.0.0.1', port, ca: material.caPem, servername: 'hub.example.test' })).toEqual({
      isAuthorized: true,
    });
    expect(await handshake({ host: '127.0.0.1', port, ca: material.caPem })).toEqual({ isAuthorized: true });
  });

  test('an IP literal from hostNames verifies as an IP address SAN', async () => {
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), ['hub.example.test', '127.0.5.9']);
    const port = serveTls(material, '127.0.5.9');

    expect(await handshake({ host: '127.0.5.9', port, ca: material.caPem })).toEqual({ isAuthorized: true });
    const san = new X509Certificate(material.certChainPem).subjectAltName ?? '';
    expect(san).toContain('IP Address:127.0.5.9');
    expect(san).not.toContain('DNS:127.0.5.9');
  });

  test('IPv6 literals, with :: and with an IPv4 tail, go in the SAN as 16-byte IP addresses', async () => {
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), ['[2001:db8::7]', '::ffff:10.1.2.3', 'fe80:0:0:0:1:2:3:4']);
    const server = new X509Certificate(material.certChainPem);

    expect(server.checkIP('2001:db8::7')).toBe('2001:db8::7');
    expect(server.checkIP('::ffff:10.1.2.3')).toBe('::ffff:10.1.2.3');
    expect(server.checkIP('fe80::1:2:3:4')).toBe('fe80::1:2:3:4');
    expect(server.checkIP('2001:db8::8')).toBeUndefined();
  });

  test('a DNS name or IP address that is not in the SAN fails verification', async () => {
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), ['hub.example.test']);
    const port = serveTls(material, '127.0.0.1');
    const otherIpPort = serveTls(material, '127.0.5.10');

    expect(await handshake({ host: '127.0.0.1', port, ca: material.caPem, servername: 'other.example.test' })).toEqual({
      isAuthorized: false,
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    expect(await handshake({ host: '127.0.5.10', port: otherIpPort, ca: material.caPem })).toEqual({
      isAuthorized: false,
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  test('the server presents its CA after its own certificate, and a client trusting another CA rejects it', async () => {
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), []);
    const port = serveTls(material, '127.0.0.1');
    const otherCa = await createCertificateAuthority('Unrelated CA');

    // With the leaf alone on the wire the code would be UNABLE_TO_VERIFY_LEAF_SIGNATURE: this one proves the chain is sent.
    expect(await handshake({ host: '127.0.0.1', port, ca: otherCa.certPem, servername: 'localhost' })).toEqual({
      isAuthorized: false,
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
  });

  test("Bun's fetch verifies the hub with tls.ca and gets the response", async () => {
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), []);
    const port = serveTls(material, '127.0.0.1');

    const response = await fetch(`https://localhost:${port}/`, { tls: { ca: material.caPem } });
    expect(await response.text()).toBe('ok');
  });
});

describe('loadOrCreateTlsMaterial', () => {
  test('creates the data dir with ca.pem, ca.key, server.pem and server.key, and returns the absolute CA path', async () => {
    const dataDir = await freshDataDir();
    const material = await loadOrCreateTlsMaterial(dataDir, ['hub.example.test']);

    expect(material.caCertPath).toBe(join(dataDir, 'ca.pem'));
    expect(await fileBytes(dataDir, 'ca.pem')).toBe(material.caPem);
    expect(await fileBytes(dataDir, 'server.key')).toBe(material.keyPem);
    expect(material.certChainPem).toBe((await fileBytes(dataDir, 'server.pem')) + material.caPem);
    expect(await fileBytes(dataDir, 'ca.key')).toContain('-----BEGIN PRIVATE KEY-----');
  });

  test('writes both key files with mode 0600', async () => {
    const dataDir = await freshDataDir();
    await loadOrCreateTlsMaterial(dataDir, []);

    expect((await stat(join(dataDir, 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'server.key'))).mode & 0o777).toBe(0o600);
  });

  test('a second call reuses the same CA and server certificate byte for byte', async () => {
    const dataDir = await freshDataDir();
    const first = await loadOrCreateTlsMaterial(dataDir, ['hub.example.test', '127.0.5.9']);
    const caKey = await fileBytes(dataDir, 'ca.key');
    const second = await loadOrCreateTlsMaterial(dataDir, ['HUB.example.test.', '127.0.5.9', 'localhost']);

    expect(second).toEqual(first);
    expect(await fileBytes(dataDir, 'ca.key')).toBe(caKey);
  });

  test('adding a host name reissues the server certificate but keeps the CA', async () => {
    const dataDir = await freshDataDir();
    const first = await loadOrCreateTlsMaterial(dataDir, ['hub.example.test']);
    const second = await loadOrCreateTlsMaterial(dataDir, ['hub.example.test', 'gateway.example.test', '::1']);

    expect(second.caPem).toBe(first.caPem);
    expect(second.keyPem).not.toBe(first.keyPem);
    const server = new X509Certificate(second.certChainPem);
    expect(server.checkHost('gateway.example.test')).toBe('gateway.example.test');
    expect(server.checkIP('::1')).toBe('::1');
    expect(server.checkIssued(new X509Certificate(first.caPem))).toBe(true);
  });

  test('uses a user-provided CA dropped in the data dir as ca.pem and ca.key', async () => {
    const sharedCa = await createCertificateAuthority('Tributary Test Shared CA');
    const dataDirs = [await freshDataDir(), await freshDataDir()];
    for (const dataDir of dataDirs) {
      await mkdir(dataDir, { recursive: true });
      await writeFile(join(dataDir, 'ca.pem'), sharedCa.certPem);
      await writeFile(join(dataDir, 'ca.key'), sharedCa.keyPem, { mode: 0o600 });
      const material = await loadOrCreateTlsMaterial(dataDir, ['hub.example.test']);

      expect(material.caPem).toBe(sharedCa.certPem);
      const server = new X509Certificate(material.certChainPem);
      const ca = new X509Certificate(sharedCa.certPem);
      expect(server.checkIssued(ca)).toBe(true);
      expect(server.verify(ca.publicKey)).toBe(true);
      expect(server.issuer).toBe('CN=Tributary Test Shared CA');
    }
  });

  test('a user CA made by openssl, RSA or EC with a SEC1 key, signs a server certificate clients verify', async () => {
    for (const keyArgs of [['-newkey', 'rsa:2048'], ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']]) {
      const dataDir = await freshDataDir();
      await mkdir(dataDir, { recursive: true });
      const openssl = Bun.spawnSync(
        ['openssl', 'req', '-x509', ...keyArgs, '-nodes', '-days', '30', '-subj', '/O=Example/CN=Example Root', '-keyout', join(dataDir, 'ca.key'), '-out', join(dataDir, 'ca.pem')],
        { stderr: 'pipe' },
      );
      expect(openssl.exitCode).toBe(0);
      if (keyArgs.includes('ec')) {
        const sec1 = Bun.spawnSync(['openssl', 'ec', '-in', join(dataDir, 'ca.key'), '-out', join(dataDir, 'ca.key')], { stderr: 'pipe' });
        expect(sec1.exitCode).toBe(0);
        expect(await fileBytes(dataDir, 'ca.key')).toContain('BEGIN EC PRIVATE KEY');
      }
      const material = await loadOrCreateTlsMaterial(dataDir, ['hub.example.test']);
      const port = serveTls(material, '127.0.0.1');

      expect(await handshake({ host: '127.0.0.1', port, ca: material.caPem, servername: 'hub.example.test' })).toEqual({ isAuthorized: true });
      const server = new X509Certificate(material.certChainPem);
      expect(server.issuer).toBe(new X509Certificate(material.caPem).subject);
      expect(server.issuer).toContain('CN=Example Root');
      expect(server.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
  });

  test('a server certificate signed by a previous CA is reissued under the current one', async () => {
    const dataDir = await freshDataDir();
    const first = await loadOrCreateTlsMaterial(dataDir, []);
    const replacementCa = await createCertificateAuthority();
    await Bun.write(join(dataDir, 'ca.pem'), replacementCa.certPem);
    await Bun.write(join(dataDir, 'ca.key'), replacementCa.keyPem);

    const second = await loadOrCreateTlsMaterial(dataDir, []);
    const server = new X509Certificate(second.certChainPem);
    expect(second.keyPem).not.toBe(first.keyPem);
    expect(server.verify(new X509Certificate(replacementCa.certPem).publicKey)).toBe(true);
    expect(server.verify(new X509Certificate(first.caPem).publicKey)).toBe(false);
  });

  test('the server certificate is kept until 30 days before expiry and reissued after that', async () => {
    const dataDir = await freshDataDir();
    const issuedAtMs = Date.now();
    const first = await loadOrCreateTlsMaterial(dataDir, [], issuedAtMs);

    const stillFresh = await loadOrCreateTlsMaterial(dataDir, [], issuedAtMs + 790 * DAY_MS);
    expect(stillFresh.keyPem).toBe(first.keyPem);
    const nearExpiry = await loadOrCreateTlsMaterial(dataDir, [], issuedAtMs + 800 * DAY_MS);
    expect(nearExpiry.keyPem).not.toBe(first.keyPem);
    expect(nearExpiry.caPem).toBe(first.caPem);
  });

  test('the server certificate is valid for 825 days from one hour before nowMs', async () => {
    const nowMs = Date.parse('2030-06-01T12:00:00Z');
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), ['hub.example.test'], nowMs);
    const server = new X509Certificate(material.certChainPem);

    expect(server.validFromDate.toISOString()).toBe('2030-06-01T11:00:00.000Z');
    expect(server.validToDate.getTime() - server.validFromDate.getTime()).toBe(825 * DAY_MS);
    expect(server.subject).toBe('CN=hub.example.test');
    expect(server.ca).toBe(false);
  });

  test('a ca.pem without its ca.key is an error instead of being replaced', async () => {
    const dataDir = await freshDataDir();
    const userCa = await createCertificateAuthority();
    await Bun.write(join(dataDir, 'ca.pem'), userCa.certPem);

    await expect(loadOrCreateTlsMaterial(dataDir, [])).rejects.toThrow(/ca\.key does not/);
    expect(await fileBytes(dataDir, 'ca.pem')).toBe(userCa.certPem);
  });

  test('a ca.key that does not belong to ca.pem is an error', async () => {
    const dataDir = await freshDataDir();
    const certOwner = await createCertificateAuthority();
    const keyOwner = await createCertificateAuthority();
    await Bun.write(join(dataDir, 'ca.pem'), certOwner.certPem);
    await Bun.write(join(dataDir, 'ca.key'), keyOwner.keyPem);

    await expect(loadOrCreateTlsMaterial(dataDir, [])).rejects.toThrow(/does not belong/);
  });

  test('an expired CA is an error instead of issuing an already-invalid server certificate', async () => {
    const dataDir = await freshDataDir();
    await loadOrCreateTlsMaterial(dataDir, []);

    await expect(loadOrCreateTlsMaterial(dataDir, [], Date.now() + 11 * 365 * DAY_MS)).rejects.toThrow(/expired on/);
  });
});

describe('createCertificateAuthority', () => {
  test('creates a 10-year CA with a random-suffixed name, or the given common name', async () => {
    const defaultNamed = new X509Certificate((await createCertificateAuthority()).certPem);
    const named = new X509Certificate((await createCertificateAuthority('My CA')).certPem);

    expect(defaultNamed.subject).toMatch(/^CN=Tributary Local CA [0-9a-f]{8}$/);
    expect(named.subject).toBe('CN=My CA');
    expect(named.ca).toBe(true);
    expect(named.checkIssued(named)).toBe(true);
    expect(named.verify(named.publicKey)).toBe(true);
    const validityYears = (named.validToDate.getTime() - named.validFromDate.getTime()) / (365.25 * DAY_MS);
    expect(validityYears).toBeCloseTo(10, 1);
    expect(named.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  test('the CA and server certificate carry the extensions TLS clients check', async () => {
    const material = await loadOrCreateTlsMaterial(await freshDataDir(), ['hub.example.test']);
    // An independent parser reads what certificate-writer.ts wrote; it needs the Reflect metadata shim first.
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    const ca = new x509.X509Certificate(material.caPem);
    const server = new x509.X509Certificate(material.certChainPem);

    const basicConstraints = ca.getExtension(x509.BasicConstraintsExtension);
    expect(basicConstraints?.ca).toBe(true);
    expect(basicConstraints?.critical).toBe(true);
    expect(ca.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const caKeyId = ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    expect(caKeyId).toMatch(/^[0-9a-f]{40}$/);

    expect(server.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caKeyId);
    expect(server.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.serverAuth]);
    expect((server.getExtension(x509.KeyUsagesExtension)?.usages ?? 0) & x509.KeyUsageFlags.digitalSignature).toBeTruthy();
    expect(server.signatureAlgorithm).toMatchObject({ name: 'ECDSA', hash: { name: 'SHA-256' } });
    expect(BigInt(`0x${server.serialNumber}`) > 0n).toBe(true);
  });
});
