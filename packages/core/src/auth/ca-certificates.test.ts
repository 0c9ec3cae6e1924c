/**
 * CaCertificateService over the in-memory store: what it accepts as a CA, the record it keeps,
 * name rules, conflicts, verification and the idempotent `ensure` used at hub start.
 */

import { beforeAll, describe, expect, test } from 'bun:test';
import { HubError, type HubErrorName } from '../errors.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { MemoryCertificateStore } from '../testing/memory-certificate-store.ts';
import { issueTestCertificate, type TestCertificate } from '../testing/test-certificates.ts';
import { CaCertificateService, parseCaCertificate } from './ca-certificates.ts';

const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

function setup() {
  const clock = new FakeClock();
  const store = new MemoryCertificateStore();
  return { clock, store, service: new CaCertificateService({ store, clock }) };
}

async function expectHubErrorAsync(promise: Promise<unknown>, code: HubErrorName, messagePart?: string): Promise<HubError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code).toBe(code);
  if (messagePart !== undefined) expect((error as HubError).message).toContain(messagePart);
  return error as HubError;
}

const START = new FakeClock().now();
let root: TestCertificate;
let other: TestCertificate;
let leaf: TestCertificate;
let expired: TestCertificate;

beforeAll(async () => {
  const valid = { notBeforeMs: START - HOUR_MS, notAfterMs: START + 365 * DAY_MS };
  root = await issueTestCertificate({ commonName: 'Test Root', isCa: true, ...valid });
  other = await issueTestCertificate({ commonName: 'Other Root', isCa: true, ...valid });
  leaf = await issueTestCertificate({ commonName: 'device', issuer: root, ...valid });
  expired = await issueTestCertificate({ commonName: 'Old Root', isCa: true, notBeforeMs: START - 2 * DAY_MS, notAfterMs: START - DAY_MS });
});

describe('adding', () => {
  test('a CA certificate is kept with its SHA-256 thumbprint, subject, expiry and times, unverified', async () => {
    const { service, clock } = setup();
    const record = await service.add('root', root.pem);
    expect(record).toEqual({
      name: 'root',
      pem: root.pem,
      thumbprint: root.sha256,
      subject: 'CN=Test Root',
      expiry: START + 365 * DAY_MS,
      isVerified: false,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    });
    expect(await service.get('root')).toEqual(record);
  });

  test('isVerified may be set when adding, and base64 DER is accepted as ARM does', async () => {
    const { service } = setup();
    const record = await service.add('root.der_1', Buffer.from(root.der).toString('base64'), { isVerified: true });
    expect(record.isVerified).toBe(true);
    expect(record.pem).toBe(root.pem);
  });

  test("base64 of PEM text is accepted, as the SDK e2e suite's IOTHUB_CA_ROOT_CERT holds it", async () => {
    const { service } = setup();
    expect((await service.ensure('e2e-root', Buffer.from(root.pem).toString('base64'))).certificate.thumbprint).toBe(root.sha256);
  });

  test('a taken name is a 409 GenericConflict', async () => {
    const { service } = setup();
    await service.add('root', root.pem);
    const error = await expectHubErrorAsync(service.add('root', other.pem), 'GenericConflict', "'root' is already registered");
    expect(error.status).toBe(409);
  });

  test('names are 1 to 64 letters, digits, hyphens, underscores and periods', async () => {
    const { service } = setup();
    for (const name of ['', 'a/b', 'a b', 'x'.repeat(65), 'é']) {
      await expectHubErrorAsync(service.add(name, root.pem), 'ArgumentInvalid', 'certificate name');
    }
    expect((await service.add('A-z_0.9'.padEnd(64, 'x'), root.pem)).name).toHaveLength(64);
  });

  test('a leaf certificate is refused: it is not a CA', async () => {
    await expectHubErrorAsync(setup().service.add('leaf', leaf.pem), 'ArgumentInvalid', 'not a CA certificate');
  });

  test('an expired CA certificate is refused', async () => {
    await expectHubErrorAsync(setup().service.add('old', expired.pem), 'ArgumentInvalid', 'expired');
  });

  test('text that is not one certificate is refused, saying why', async () => {
    const { service } = setup();
    await expectHubErrorAsync(service.add('x', 'hello'), 'ArgumentInvalid', 'not PEM');
    await expectHubErrorAsync(service.add('x', root.pem + other.pem), 'ArgumentInvalid', 'more than one certificate');
    await expectHubErrorAsync(service.add('x', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'), 'ArgumentInvalid', 'could not be parsed');
    await expectHubErrorAsync(service.add('x', ''), 'ArgumentInvalid', 'required');
    expect(() => parseCaCertificate(undefined, START)).toThrow(HubError);
  });
});

describe('reading, verifying, deleting', () => {
  test('list returns every certificate by name', async () => {
    const { service } = setup();
    await service.add('b', other.pem);
    await service.add('a', root.pem);
    expect((await service.list()).map((record) => record.name)).toEqual(['a', 'b']);
  });

  test('an unknown name is 404 GenericNotFound for get, verify and delete', async () => {
    const { service } = setup();
    await expectHubErrorAsync(service.get('nope'), 'GenericNotFound', "CA certificate 'nope'");
    await expectHubErrorAsync(service.verify('nope'), 'GenericNotFound');
    await expectHubErrorAsync(service.delete('nope'), 'GenericNotFound');
  });

  test('verify marks the certificate verified once and records when', async () => {
    const { service, clock } = setup();
    await service.add('root', root.pem);
    clock.advance(1000);
    const verified = await service.verify('root');
    expect(verified).toMatchObject({ isVerified: true, updatedAt: START + 1000, createdAt: START });
    clock.advance(1000);
    expect(await service.verify('root')).toEqual(verified);
    expect(await service.get('root')).toEqual(verified);
  });

  test('delete removes the certificate', async () => {
    const { service } = setup();
    await service.add('root', root.pem);
    await service.delete('root');
    await expectHubErrorAsync(service.get('root'), 'GenericNotFound');
  });
});

describe('ensure (configuration at start)', () => {
  test('registers the CA verified, then leaves it alone', async () => {
    const { service, clock } = setup();
    const first = await service.ensure('config-root', root.pem);
    expect(first.outcome).toBe('created');
    expect(first.certificate.isVerified).toBe(true);
    clock.advance(1000);
    expect(await service.ensure('config-root', root.pem)).toEqual({ certificate: first.certificate, outcome: 'unchanged' });
  });

  test('verifies an unverified copy of the same certificate and replaces a different one, keeping createdAt', async () => {
    const { service, clock } = setup();
    await service.add('config-root', root.pem);
    clock.advance(1000);
    const verified = await service.ensure('config-root', root.pem);
    expect(verified.outcome).toBe('updated');
    expect(verified.certificate).toMatchObject({ isVerified: true, createdAt: START, updatedAt: START + 1000 });
    const replaced = await service.ensure('config-root', other.pem);
    expect(replaced.outcome).toBe('updated');
    expect(replaced.certificate).toMatchObject({ thumbprint: other.sha256, createdAt: START, isVerified: true });
  });

  test('refuses a certificate that is not a usable CA', async () => {
    await expectHubErrorAsync(setup().service.ensure('config-root', leaf.pem), 'ArgumentInvalid');
  });
});
