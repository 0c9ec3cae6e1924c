import { afterAll, beforeAll, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { createSelfSignedDeviceCertificate } from '../../test/support/device-certificates.ts';
import { loadOrCreateTlsMaterial, type TlsMaterial } from '../tls/local-ca.ts';
import { listenTlsFront, type TlsFront } from './tls-front.ts';

let dataDir: string;
let material: TlsMaterial;
let front: TlsFront;
let upstream: ReturnType<typeof Bun.serve>;

/** The upstream answers with the peer the front recorded for the relayed connection, or echoes the body. */
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'tributary-tls-front-'));
  material = await loadOrCreateTlsMaterial(dataDir, ['localhost']);
  upstream = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    maxRequestBodySize: 64 * 1024 * 1024,
    async fetch(req, server) {
      if (req.method === 'POST') return new Response(await req.arrayBuffer());
      const peer = front.peerOf(server.requestIP(req)!.port);
      return Response.json({
        remoteAddress: peer?.remoteAddress,
        certificates: peer?.certificateChain.map((der) => new X509Certificate(der).fingerprint256),
      });
    },
  });
  front = listenTlsFront({ hostname: '127.0.0.1', port: 0, tls: { cert: material.certChainPem, key: material.keyPem }, upstreamPort: upstream.port! });
});

afterAll(async () => {
  front.stop(true);
  await upstream.stop(true);
  await rm(dataDir, { recursive: true, force: true });
});

/** One request through the front with node:https (which sends a client certificate when given one). */
function call(options: { method?: string; body?: Uint8Array; cert?: string; key?: string }): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', servername: 'localhost', port: front.port, path: '/', method: options.method ?? 'GET', ca: material.caPem, cert: options.cert, key: options.key },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

test('a client without a certificate reaches the upstream, which sees its address and an empty chain', async () => {
  const { status, body } = await call({});
  expect(status).toBe(200);
  expect(JSON.parse(body.toString())).toEqual({ remoteAddress: '127.0.0.1', certificates: [] });
});

test('the certificate a client presents in the handshake is what the upstream looks up for its request', async () => {
  const device = await createSelfSignedDeviceCertificate('front-device');
  const { body } = await call({ cert: device.certPem, key: device.keyPem });
  const expected = new X509Certificate(device.certPem).fingerprint256;
  expect(JSON.parse(body.toString()).certificates).toEqual([expected]);
});

test('a 32 MB body crosses the relay both ways intact', async () => {
  const payload = crypto.getRandomValues(new Uint8Array(65536));
  const big = new Uint8Array(32 * 1024 * 1024);
  for (let offset = 0; offset < big.length; offset += payload.length) big.set(payload, offset);
  big[big.length - 1] = 7;
  const { status, body } = await call({ method: 'POST', body: big });
  expect(status).toBe(200);
  expect(body.length).toBe(big.length);
  expect(Buffer.compare(body, Buffer.from(big))).toBe(0);
});
