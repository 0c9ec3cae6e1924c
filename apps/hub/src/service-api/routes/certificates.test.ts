/**
 * The CA certificate routes without a server: `app.request` over the in-memory store, a fake
 * clock and the built-in policies. Covers the JSON shapes, status codes, error mapping,
 * permissions per method and 405 with Allow per path.
 */

import { beforeAll, describe, expect, test } from 'bun:test';
import { ServiceAuthenticator } from '../auth.ts';
import { Hono } from 'hono';
import {
  CaCertificateService,
  createBuiltInPolicies,
  PolicyAuthenticator,
  sasRecipes,
  silentLogger,
  type SharedAccessPolicy,
} from '@tributary/core';
import { FakeClock, MemoryCertificateStore, createMemoryStores } from '@tributary/core/testing';
import { createCertificateAuthority } from '../../tls/local-ca.ts';
import type { ServiceApiEnv } from '../context.ts';
import { createErrorHandler } from '../errors.ts';
import { certificateRoutes } from './certificates.ts';

const HOST = 'hub.test';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

interface CertificateBody {
  name: string;
  subject: string;
  thumbprint: string;
  expiry: string;
  isVerified: boolean;
  created: string;
  updated: string;
  certificate: string;
}

let rootPem: string;
let otherPem: string;

beforeAll(async () => {
  rootPem = (await createCertificateAuthority('Route Test Root')).certPem;
  otherPem = (await createCertificateAuthority('Route Test Other')).certPem;
});

async function setup() {
  const clock = new FakeClock();
  const stores = createMemoryStores();
  const policies = new Map<string, SharedAccessPolicy>();
  for (const policy of createBuiltInPolicies()) {
    await stores.policies.upsert(policy);
    policies.set(policy.keyName, policy);
  }
  const certificates = new CaCertificateService({ store: new MemoryCertificateStore(), clock });
  const authenticator = new ServiceAuthenticator(new PolicyAuthenticator({ policies: stores.policies, hostName: HOST, clock }));
  const app = new Hono<ServiceApiEnv>({ strict: false });
  app.onError(createErrorHandler(silentLogger));
  app.route('/certificates', certificateRoutes({ certificates, authenticator }));

  const call = (method: string, path: string, options: { body?: unknown; policy?: string | null } = {}) => {
    const headers: Record<string, string> = {};
    const policyName = options.policy === undefined ? 'iothubowner' : options.policy;
    if (policyName !== null) {
      const policy = policies.get(policyName)!;
      headers.authorization = sasRecipes.service(HOST, policy.keyName, policy.primaryKey, Math.floor(clock.now() / 1000) + 3600);
    }
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    return app.request(path, { method, headers, body });
  };
  return { call, certificates, clock };
}

async function errorCodeOf(response: Response): Promise<string> {
  const body = (await response.json()) as { Message: string };
  expect(response.headers.get('iothub-errorcode')).toBe(body.Message.slice('ErrorCode:'.length).split(';')[0]!);
  return response.headers.get('iothub-errorcode')!;
}

describe('certificate routes', () => {
  test('PUT registers a CA and answers 201 with its description; GET reads it back', async () => {
    const { call, clock } = await setup();
    const put = await call('PUT', '/certificates/root', { body: { certificate: rootPem } });
    expect(put.status).toBe(201);
    expect(put.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    const created = (await put.json()) as CertificateBody;
    expect(created).toMatchObject({
      name: 'root',
      subject: 'CN=Route Test Root',
      isVerified: false,
      created: new Date(clock.now()).toISOString(),
      updated: new Date(clock.now()).toISOString(),
      certificate: rootPem,
    });
    expect(created.thumbprint).toMatch(/^[0-9A-F]{64}$/);
    expect(Date.parse(created.expiry)).toBeGreaterThan(clock.now());

    const get = await call('GET', '/certificates/root', { policy: 'registryRead' });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual(created);
  });

  test("PUT accepts ARM's properties wrapper and isVerified", async () => {
    const { call } = await setup();
    const put = await call('PUT', '/certificates/root', { body: { properties: { certificate: rootPem, isVerified: true } } });
    expect(put.status).toBe(201);
    expect(((await put.json()) as CertificateBody).isVerified).toBe(true);
  });

  test('GET /certificates lists them under value, by name', async () => {
    const { call } = await setup();
    await call('PUT', '/certificates/zeta', { body: { certificate: otherPem } });
    await call('PUT', '/certificates/alpha', { body: { certificate: rootPem } });
    const list = await call('GET', '/certificates', { policy: 'registryRead' });
    expect(list.status).toBe(200);
    const body = (await list.json()) as { value: CertificateBody[] };
    expect(body.value.map((certificate) => certificate.name)).toEqual(['alpha', 'zeta']);
  });

  test('PUT on a taken name is 409 GenericConflict', async () => {
    const { call } = await setup();
    await call('PUT', '/certificates/root', { body: { certificate: rootPem } });
    const again = await call('PUT', '/certificates/root', { body: { certificate: otherPem } });
    expect(again.status).toBe(409);
    expect(await errorCodeOf(again)).toBe('GenericConflict');
  });

  test('PUT with a body that is not a CA certificate, or without one, is 400 ArgumentInvalid', async () => {
    const { call } = await setup();
    for (const body of [{ certificate: 'nope' }, {}, { certificate: 42 }, { certificate: rootPem, isVerified: 'yes' }]) {
      const response = await call('PUT', '/certificates/root', { body });
      expect(response.status).toBe(400);
      expect(await errorCodeOf(response)).toBe('ArgumentInvalid');
    }
    const badName = await call('PUT', `/certificates/${'x'.repeat(65)}`, { body: { certificate: rootPem } });
    expect(badName.status).toBe(400);
  });

  test('POST verify marks the certificate verified', async () => {
    const { call, clock } = await setup();
    await call('PUT', '/certificates/root', { body: { certificate: rootPem } });
    clock.advance(5000);
    const verify = await call('POST', '/certificates/root/verify');
    expect(verify.status).toBe(200);
    expect(await verify.json()).toMatchObject({ isVerified: true, updated: new Date(clock.now()).toISOString() });
    const withProof = await call('POST', '/certificates/root/verify', { body: { certificate: 'ignored' } });
    expect(withProof.status).toBe(200);
  });

  test('DELETE answers 204, after which the certificate is 404 GenericNotFound', async () => {
    const { call } = await setup();
    await call('PUT', '/certificates/root', { body: { certificate: rootPem } });
    expect((await call('DELETE', '/certificates/root')).status).toBe(204);
    const get = await call('GET', '/certificates/root');
    expect(get.status).toBe(404);
    expect(await errorCodeOf(get)).toBe('GenericNotFound');
    expect((await call('DELETE', '/certificates/root')).status).toBe(404);
    expect((await call('POST', '/certificates/root/verify')).status).toBe(404);
  });

  test('reads need RegistryRead, writes RegistryWrite', async () => {
    const { call } = await setup();
    expect((await call('GET', '/certificates', { policy: null })).status).toBe(401);
    expect((await call('GET', '/certificates', { policy: 'service' })).status).toBe(401);
    expect((await call('GET', '/certificates', { policy: 'registryRead' })).status).toBe(200);
    const readOnlyWrites = [
      call('PUT', '/certificates/root', { body: { certificate: rootPem }, policy: 'registryRead' }),
      call('DELETE', '/certificates/root', { policy: 'registryRead' }),
      call('POST', '/certificates/root/verify', { policy: 'registryRead' }),
    ];
    for (const response of await Promise.all(readOnlyWrites)) {
      expect(response.status).toBe(401);
      expect(await errorCodeOf(response)).toBe('IotHubUnauthorizedAccess');
    }
    expect((await call('PUT', '/certificates/root', { body: { certificate: rootPem }, policy: 'registryReadWrite' })).status).toBe(201);
  });

  test('other methods are 405 with the Allow header of each path', async () => {
    const { call } = await setup();
    const cases: [string, string, string][] = [
      ['POST', '/certificates', 'GET'],
      ['PATCH', '/certificates/root', 'GET, PUT, DELETE'],
      ['GET', '/certificates/root/verify', 'POST'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await call(method, path);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(await errorCodeOf(response)).toBe('GenericMethodNotAllowed');
    }
  });
});
