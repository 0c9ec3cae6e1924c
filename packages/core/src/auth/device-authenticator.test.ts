/**
 * DeviceAuthenticator over in-memory stores and a fake clock: SAS tokens signed with identity
 * and policy keys, X.509 thumbprints and CA chains (certificates made per test run). Every
 * refusal must be IotHubUnauthorized (401003) and must not echo a key or signature.
 */

import { beforeAll, describe, expect, test } from 'bun:test';
import { HubError } from '../errors.ts';
import { IdentityRegistry } from '../identity/registry.ts';
import type { Device, Module } from '../identity/types.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { MemoryCertificateStore } from '../testing/memory-certificate-store.ts';
import { issueTestCertificate, type TestCertificate } from '../testing/test-certificates.ts';
import { CaCertificateService } from './ca-certificates.ts';
import { DeviceAuthenticator, type DeviceCredentials } from './device-authenticator.ts';
import { createBuiltInPolicies, type SharedAccessPolicy } from './policies.ts';
import { DEFAULT_SAS_SKEW_MS, createSasToken, encodeStrict, sasRecipes } from './sas.ts';

const HOST = 'hub.test';
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;
const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const KEYS = { d1: [key(1), key(2)], d10: [key(3), key(4)], m1: [key(5), key(6)], disabled: [key(7), key(8)] } as const;

const clock = new FakeClock();
const stores = createMemoryStores();
const certificateStore = new MemoryCertificateStore();
const certificates = new CaCertificateService({ store: certificateStore, clock });
const registry = new IdentityRegistry({ store: stores.registry, clock });
const authenticator = new DeviceAuthenticator({
  registry: stores.registry,
  policies: stores.policies,
  certificates: certificateStore,
  hostName: HOST,
  clock,
});
const policies = new Map<string, SharedAccessPolicy>();
const devices = new Map<string, Device>();
let module1: Module;

/** Everything a refusal message must never contain. */
const secrets: string[] = [...Object.values(KEYS).flat()];

const inAnHour = () => Math.floor(clock.now() / 1000) + 3600;
const sasKeys = (primaryKey: string, secondaryKey: string) => ({ type: 'sas' as const, symmetricKey: { primaryKey, secondaryKey } });

function policyKey(name: string): string {
  return policies.get(name)!.primaryKey;
}

async function expectUnauthorized(credentials: DeviceCredentials, messagePart?: string): Promise<HubError> {
  const error = await authenticator.authenticate(credentials).then(
    () => {
      throw new Error('expected authentication to be refused');
    },
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(HubError);
  const hubError = error as HubError;
  expect(hubError.code).toBe('IotHubUnauthorized');
  expect(hubError.numericCode).toBe(401003);
  if (messagePart !== undefined) expect(hubError.message).toContain(messagePart);
  const tokenSecrets = credentials.kind === 'sas' ? signatureOf(credentials.token) : [];
  for (const secret of [...secrets, ...tokenSecrets]) expect(hubError.message).not.toContain(secret);
  return hubError;
}

/** The `sig` of a token, raw and decoded. */
function signatureOf(token: string): string[] {
  const raw = /sig=([^&]+)/.exec(token)?.[1];
  return raw ? [raw, decodeURIComponent(raw)] : [];
}

beforeAll(async () => {
  for (const policy of createBuiltInPolicies()) {
    await stores.policies.upsert(policy);
    policies.set(policy.keyName, policy);
    secrets.push(policy.primaryKey, policy.secondaryKey);
  }
  devices.set('d1', await registry.createDevice({ deviceId: 'd1', authentication: sasKeys(...KEYS.d1) }));
  devices.set('d10', await registry.createDevice({ deviceId: 'd10', authentication: sasKeys(...KEYS.d10) }));
  devices.set('off', await registry.createDevice({ deviceId: 'off', status: 'disabled', authentication: sasKeys(...KEYS.disabled) }));
  module1 = await registry.createModule({ deviceId: 'd1', moduleId: 'm1', authentication: sasKeys(...KEYS.m1) });
  await registry.createModule({ deviceId: 'off', moduleId: 'm1', authentication: sasKeys(...KEYS.m1) });
});

describe('SAS tokens signed with the identity key', () => {
  test('a device token signed with the primary key authenticates the device until se plus skew', async () => {
    const se = inAnHour();
    const result = await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', token: sasRecipes.device(HOST, 'd1', KEYS.d1[0], se) });
    expect(result).toEqual({
      deviceId: 'd1',
      moduleId: null,
      generationId: devices.get('d1')!.generationId,
      authMethod: { scope: 'device', type: 'sas', issuer: 'iothub' },
      tokenExpiresAtMs: se * 1000 + DEFAULT_SAS_SKEW_MS,
    });
  });

  test('a device token signed with the secondary key authenticates the device', async () => {
    const token = sasRecipes.device(HOST, 'd1', KEYS.d1[1], inAnHour());
    expect((await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', token })).deviceId).toBe('d1');
  });

  test('a module token signed with the module key authenticates the module', async () => {
    const token = sasRecipes.module(HOST, 'd1', 'm1', KEYS.m1[1], inAnHour());
    const result = await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', moduleId: 'm1', token });
    expect(result).toMatchObject({ deviceId: 'd1', moduleId: 'm1', generationId: module1.generationId });
    expect(result.authMethod).toEqual({ scope: 'module', type: 'sas', issuer: 'iothub' });
  });

  test('a module token signed with its device key is refused', async () => {
    const token = sasRecipes.module(HOST, 'd1', 'm1', KEYS.d1[0], inAnHour());
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', moduleId: 'm1', token }, "signature is not valid for the module 'm1' of device 'd1'");
  });

  test('a device token signed with the device key is refused for a module of that device', async () => {
    const token = sasRecipes.device(HOST, 'd1', KEYS.d1[0], inAnHour());
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', moduleId: 'm1', token }, 'signature is not valid');
  });

  test('a module token does not authenticate its device', async () => {
    const token = sasRecipes.module(HOST, 'd1', 'm1', KEYS.m1[0], inAnHour());
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token }, "does not cover device 'd1'");
  });

  test('a token signed with a wrong key is refused', async () => {
    const token = sasRecipes.device(HOST, 'd1', KEYS.d10[0], inAnHour());
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token }, "not valid for the device 'd1'");
  });

  test('a token for another device is refused', async () => {
    const token = sasRecipes.device(HOST, 'd10', KEYS.d10[0], inAnHour());
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token }, "does not cover device 'd1'");
  });

  test('a token for d1 does not cover d10, even signed by a DeviceConnect policy', async () => {
    const token = sasRecipes.device(HOST, 'd1', policyKey('device'), inAnHour(), 'device');
    await expectUnauthorized({ kind: 'sas', deviceId: 'd10', token }, "does not cover device 'd10'");
  });

  test('a token for another hub is refused', async () => {
    const token = sasRecipes.device('other.hub', 'd1', KEYS.d1[0], inAnHour());
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token }, "for hub 'other.hub'");
  });

  test('the hub name matches case-insensitively and with a port', async () => {
    for (const host of ['HUB.test', `${HOST}:8883`]) {
      const token = sasRecipes.device(host, 'd1', KEYS.d1[0], inAnHour());
      expect((await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', token })).deviceId).toBe('d1');
    }
  });

  test('an expired token is refused', async () => {
    const se = Math.floor((clock.now() - DEFAULT_SAS_SKEW_MS) / 1000) - 1;
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token: sasRecipes.device(HOST, 'd1', KEYS.d1[0], se) }, 'expired');
  });

  test('a token expired less than the skew ago is accepted and expires with the skew', async () => {
    const se = Math.floor(clock.now() / 1000) - 60;
    const result = await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', token: sasRecipes.device(HOST, 'd1', KEYS.d1[0], se) });
    expect(result.tokenExpiresAtMs).toBe(se * 1000 + DEFAULT_SAS_SKEW_MS);
    expect(result.tokenExpiresAtMs!).toBeGreaterThan(clock.now());
  });

  test('a disabled device is refused, and so are its modules', async () => {
    await expectUnauthorized(
      { kind: 'sas', deviceId: 'off', token: sasRecipes.device(HOST, 'off', KEYS.disabled[0], inAnHour()) },
      "Device 'off' is disabled",
    );
    await expectUnauthorized(
      { kind: 'sas', deviceId: 'off', moduleId: 'm1', token: sasRecipes.module(HOST, 'off', 'm1', KEYS.m1[0], inAnHour()) },
      "Device 'off' is disabled",
    );
  });

  test('an unknown device or module is refused', async () => {
    await expectUnauthorized(
      { kind: 'sas', deviceId: 'ghost', token: sasRecipes.device(HOST, 'ghost', KEYS.d1[0], inAnHour()) },
      "Device 'ghost' is not registered",
    );
    await expectUnauthorized(
      { kind: 'sas', deviceId: 'd1', moduleId: 'ghost', token: sasRecipes.module(HOST, 'd1', 'ghost', KEYS.m1[0], inAnHour()) },
      "Module 'ghost' is not registered on device 'd1'",
    );
  });

  test('a selfSigned device cannot sign a SAS token with a key it does not have', async () => {
    await registry.createDevice({ deviceId: 'thumb-sas', authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB'.repeat(20) } } });
    const token = sasRecipes.device(HOST, 'thumb-sas', KEYS.d1[0], inAnHour());
    await expectUnauthorized({ kind: 'sas', deviceId: 'thumb-sas', token }, 'authenticates with selfSigned');
  });

  test('a malformed token or device id is refused with 401003, not 401002', async () => {
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token: 'SharedAccessSignature sr=x&se=1' }, "missing 'sig'");
    await expectUnauthorized({ kind: 'sas', deviceId: 'no/slash', token: sasRecipes.device(HOST, 'd1', KEYS.d1[0], inAnHour()) }, 'deviceId is malformed');
  });
});

describe('SAS tokens signed with a shared access policy', () => {
  test('a device token from the `device` policy (DeviceConnect) authenticates the device', async () => {
    const token = sasRecipes.device(HOST, 'd1', policyKey('device'), inAnHour(), 'device');
    const result = await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', token });
    expect(result.authMethod).toEqual({ scope: 'device', type: 'sas', issuer: 'iothub' });
    expect(result.generationId).toBe(devices.get('d1')!.generationId);
  });

  test("the policy's secondary key works too, for a module", async () => {
    const token = createSasToken({
      signedResource: encodeStrict(`${HOST}/devices/d1/modules/m1`),
      key: policies.get('device')!.secondaryKey,
      keyName: 'device',
      expiresAtSeconds: inAnHour(),
    });
    expect((await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', moduleId: 'm1', token })).moduleId).toBe('m1');
  });

  test('an iothubowner token scoped to the whole hub authenticates any device', async () => {
    const token = sasRecipes.service(HOST, 'iothubowner', policyKey('iothubowner'), inAnHour());
    expect((await authenticator.authenticate({ kind: 'sas', deviceId: 'd10', token })).deviceId).toBe('d10');
  });

  test('a gateway token scoped to host/devices authenticates any device', async () => {
    const token = createSasToken({ signedResource: encodeStrict(`${HOST}/devices`), key: policyKey('device'), keyName: 'device', expiresAtSeconds: inAnHour() });
    expect((await authenticator.authenticate({ kind: 'sas', deviceId: 'd10', token })).deviceId).toBe('d10');
  });

  test('a token from the `service` policy is refused: it lacks DeviceConnect', async () => {
    const token = sasRecipes.device(HOST, 'd1', policyKey('service'), inAnHour(), 'service');
    await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token }, "'service' does not grant DeviceConnect");
  });

  test('an unknown policy and a wrong policy key read the same', async () => {
    const unknown = await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token: sasRecipes.device(HOST, 'd1', policyKey('device'), inAnHour(), 'nope') });
    const wrongKey = await expectUnauthorized({ kind: 'sas', deviceId: 'd1', token: sasRecipes.device(HOST, 'd1', KEYS.d1[0], inAnHour(), 'device') });
    expect(unknown.message).toBe("The SAS token signature is not valid for shared access policy 'nope'");
    expect(wrongKey.message).toBe("The SAS token signature is not valid for shared access policy 'device'");
  });

  test('a policy token authenticates a device of any authentication type, if enabled', async () => {
    const token = sasRecipes.device(HOST, 'thumb-sas', policyKey('device'), inAnHour(), 'device');
    expect((await authenticator.authenticate({ kind: 'sas', deviceId: 'thumb-sas', token })).deviceId).toBe('thumb-sas');
    const disabled = sasRecipes.device(HOST, 'off', policyKey('iothubowner'), inAnHour(), 'iothubowner');
    await expectUnauthorized({ kind: 'sas', deviceId: 'off', token: disabled }, 'is disabled');
  });
});

describe('X.509 certificates', () => {
  const now = () => clock.now();
  const valid = () => ({ notBeforeMs: now() - HOUR_MS, notAfterMs: now() + DAY_MS });
  let root: TestCertificate;
  let intermediate: TestCertificate;
  let unverifiedRoot: TestCertificate;

  beforeAll(async () => {
    root = await issueTestCertificate({ commonName: 'Tributary Test Root', isCa: true, ...valid() });
    intermediate = await issueTestCertificate({ commonName: 'Tributary Test Intermediate', isCa: true, issuer: root, ...valid() });
    unverifiedRoot = await issueTestCertificate({ commonName: 'Unverified Root', isCa: true, ...valid() });
    await certificates.add('root', root.pem, { isVerified: true });
    await certificates.add('unverified', unverifiedRoot.pem);
    await registry.createDevice({ deviceId: 'ca-dev', authentication: { type: 'certificateAuthority' } });
    await registry.createModule({ deviceId: 'ca-dev', moduleId: 'm1', authentication: { type: 'certificateAuthority' } });
    await registry.createDevice({ deviceId: 'ca-off', status: 'disabled', authentication: { type: 'certificateAuthority' } });
  });

  const x509 = (deviceId: string, chain: TestCertificate[], moduleId?: string): DeviceCredentials => ({
    kind: 'x509',
    deviceId,
    ...(moduleId ? { moduleId } : {}),
    certificateChain: chain.map((certificate) => certificate.der),
  });

  describe('selfSigned identities', () => {
    let leaf: TestCertificate;
    beforeAll(async () => {
      leaf = await issueTestCertificate({ commonName: 'thumb-dev', ...valid() });
      await registry.createDevice({ deviceId: 'thumb-sha1', authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: leaf.sha1 } } });
      await registry.createDevice({
        deviceId: 'thumb-sha256',
        authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: 'AB'.repeat(20), secondaryThumbprint: leaf.sha256.toLowerCase() } },
      });
    });

    test('a certificate whose SHA-1 thumbprint is registered authenticates', async () => {
      const result = await authenticator.authenticate(x509('thumb-sha1', [leaf]));
      expect(result).toEqual({
        deviceId: 'thumb-sha1',
        moduleId: null,
        generationId: expect.any(String),
        authMethod: { scope: 'device', type: 'x509Certificate', issuer: 'iothub' },
      });
      expect(result.tokenExpiresAtMs).toBeUndefined();
    });

    test('a certificate whose SHA-256 thumbprint is registered as secondary authenticates', async () => {
      expect((await authenticator.authenticate(x509('thumb-sha256', [leaf]))).deviceId).toBe('thumb-sha256');
    });

    test('another certificate is refused', async () => {
      const other = await issueTestCertificate({ commonName: 'thumb-dev', ...valid() });
      await expectUnauthorized(x509('thumb-sha1', [other]), "thumbprint is not registered for the device 'thumb-sha1'");
    });

    test('an expired certificate with a registered thumbprint is refused', async () => {
      const old = await issueTestCertificate({ commonName: 'thumb-old', notBeforeMs: now() - 2 * DAY_MS, notAfterMs: now() - DAY_MS });
      await registry.createDevice({ deviceId: 'thumb-old', authentication: { type: 'selfSigned', x509Thumbprint: { primaryThumbprint: old.sha1 } } });
      await expectUnauthorized(x509('thumb-old', [old]), 'outside its validity period');
    });

    test('a sas device cannot authenticate with a certificate', async () => {
      await expectUnauthorized(x509('d1', [leaf]), 'authenticates with sas, not with an X.509 certificate');
    });
  });

  describe('certificateAuthority identities', () => {
    test('a leaf with CN=deviceId issued by a verified registered CA authenticates', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: root, ...valid() });
      const result = await authenticator.authenticate(x509('ca-dev', [leaf]));
      expect(result).toMatchObject({ deviceId: 'ca-dev', moduleId: null, authMethod: { scope: 'device', type: 'x509CA', issuer: 'iothub' } });
    });

    test('a leaf issued through an intermediate in the presented chain authenticates', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: intermediate, ...valid() });
      expect((await authenticator.authenticate(x509('ca-dev', [leaf, intermediate]))).deviceId).toBe('ca-dev');
    });

    test('a presented chain that also holds the registered root authenticates', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: intermediate, ...valid() });
      expect((await authenticator.authenticate(x509('ca-dev', [leaf, root, intermediate]))).deviceId).toBe('ca-dev');
    });

    test('a leaf issued by a registered, verified intermediate authenticates without the root', async () => {
      const subordinate = await issueTestCertificate({ commonName: 'Registered Intermediate', isCa: true, issuer: root, ...valid() });
      await certificates.add('subordinate', subordinate.pem, { isVerified: true });
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: subordinate, ...valid() });
      expect((await authenticator.authenticate(x509('ca-dev', [leaf]))).deviceId).toBe('ca-dev');
    });

    test('an RSA CA works as well as an ECDSA one', async () => {
      const rsaRoot = await issueTestCertificate({ commonName: 'RSA Root', isCa: true, algorithm: 'rsa', ...valid() });
      await certificates.add('rsa-root', rsaRoot.pem, { isVerified: true });
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: rsaRoot, algorithm: 'rsa', ...valid() });
      expect((await authenticator.authenticate(x509('ca-dev', [leaf]))).deviceId).toBe('ca-dev');
    });

    test('a module leaf needs CN=deviceId/moduleId', async () => {
      const good = await issueTestCertificate({ commonName: 'ca-dev/m1', issuer: root, ...valid() });
      const result = await authenticator.authenticate(x509('ca-dev', [good], 'm1'));
      expect(result).toMatchObject({ moduleId: 'm1', authMethod: { scope: 'module', type: 'x509CA' } });
      const deviceCn = await issueTestCertificate({ commonName: 'ca-dev', issuer: root, ...valid() });
      await expectUnauthorized(x509('ca-dev', [deviceCn], 'm1'), "subject CN must be 'ca-dev/m1'");
    });

    test('the CN is compared exactly, special characters included', async () => {
      await registry.createDevice({ deviceId: "odd,id=1'", authentication: { type: 'certificateAuthority' } });
      const leaf = await issueTestCertificate({ commonName: "odd,id=1'", issuer: root, ...valid() });
      expect((await authenticator.authenticate(x509("odd,id=1'", [leaf]))).deviceId).toBe("odd,id=1'");
    });

    test('a CA that is registered but not verified is refused, naming it', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: unverifiedRoot, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf]), "chains to CA certificate 'unverified', which is not verified");
    });

    test('a CN other than the deviceId is refused', async () => {
      const leaf = await issueTestCertificate({ commonName: 'someone-else', issuer: root, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf]), "subject CN must be 'ca-dev'");
    });

    test('an expired leaf is refused', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: root, notBeforeMs: now() - 2 * DAY_MS, notAfterMs: now() - DAY_MS });
      await expectUnauthorized(x509('ca-dev', [leaf]), 'outside its validity period');
    });

    test('a leaf not yet valid beyond the skew is refused', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: root, notBeforeMs: now() + HOUR_MS, notAfterMs: now() + DAY_MS });
      await expectUnauthorized(x509('ca-dev', [leaf]), 'outside its validity period');
    });

    test('a leaf signed by an unregistered CA is refused', async () => {
      const stranger = await issueTestCertificate({ commonName: 'Stranger Root', isCa: true, ...valid() });
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: stranger, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf, stranger]), 'does not chain to a verified CA certificate');
    });

    test("a forged leaf naming the registered CA as issuer but signed with another key is refused", async () => {
      const impostor = await issueTestCertificate({ commonName: 'Impostor', isCa: true, ...valid() });
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: root, forgeWithKeys: impostor.keys, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf]), 'signature was not made by its issuer');
    });

    test('a forged intermediate naming the registered CA as issuer is refused', async () => {
      const impostor = await issueTestCertificate({ commonName: 'Impostor', isCa: true, ...valid() });
      const fakeIntermediate = await issueTestCertificate({ commonName: 'Fake Intermediate', isCa: true, issuer: root, forgeWithKeys: impostor.keys, ...valid() });
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: fakeIntermediate, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf, fakeIntermediate]), 'signature was not made by its issuer');
    });

    test('a leaf whose intermediate is not presented is refused', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: intermediate, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf]), 'does not chain to a verified CA certificate');
    });

    test('an intermediate that is not a CA cannot issue', async () => {
      const notCa = await issueTestCertificate({ commonName: 'Not A CA', isCa: false, issuer: root, ...valid() });
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: notCa, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf, notCa]), 'is not a CA');
    });

    test('an expired intermediate breaks the chain', async () => {
      const old = await issueTestCertificate({ commonName: 'Old Intermediate', isCa: true, issuer: root, notBeforeMs: now() - 2 * DAY_MS, notAfterMs: now() - DAY_MS });
      const leaf = await issueTestCertificate({ commonName: 'ca-dev', issuer: old, ...valid() });
      await expectUnauthorized(x509('ca-dev', [leaf, old]), 'outside its validity period');
    });

    test('a disabled device is refused after its chain checks out', async () => {
      const leaf = await issueTestCertificate({ commonName: 'ca-off', issuer: root, ...valid() });
      await expectUnauthorized(x509('ca-off', [leaf]), "Device 'ca-off' is disabled");
    });

    test('no certificate, bytes that are not one, or too many are refused', async () => {
      await expectUnauthorized({ kind: 'x509', deviceId: 'ca-dev', certificateChain: [] }, 'No client certificate');
      await expectUnauthorized({ kind: 'x509', deviceId: 'ca-dev', certificateChain: [new Uint8Array([0x30, 0x03, 1, 2, 3])] }, 'not a valid X.509');
      const tooMany = Array.from({ length: 11 }, () => root.der);
      await expectUnauthorized({ kind: 'x509', deviceId: 'ca-dev', certificateChain: tooMany }, 'longer than the hub accepts');
    });
  });
});
