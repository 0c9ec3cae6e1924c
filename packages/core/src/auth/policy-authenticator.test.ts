import { describe, expect, test } from 'bun:test';
import { generateKey } from '../identity/keys.ts';
import type { PolicyStore } from '../ports.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import { PolicyAuthenticator, type ServicePrincipal } from './policy-authenticator.ts';
import { createBuiltInPolicies, type Permission, type SharedAccessPolicy } from './policies.ts';
import { createSasToken, encodeStrict, sasRecipes } from './sas.ts';

const HOST = 'myhub.example.com';
const HOUR = 3600;
const SKEW_MS = 5 * 60 * 1000;

async function setup(options: { skewMs?: number } = {}) {
  const clock = new FakeClock();
  const policies = createMemoryStores().policies;
  const builtIn = createBuiltInPolicies();
  for (const policy of builtIn) await policies.upsert(policy);
  const authenticator = new PolicyAuthenticator({ policies, hostName: HOST, clock, ...options });
  const policy = (keyName: string) => builtIn.find((p) => p.keyName === keyName)!;
  const nowSeconds = () => Math.floor(clock.now() / 1000);
  /** A service token as azure-iothub makes it, valid for an hour from now unless told otherwise. */
  const token = (keyName: string, key = policy(keyName).primaryKey, expiresAtSeconds = nowSeconds() + HOUR, hostName = HOST) =>
    sasRecipes.service(hostName, keyName, key, expiresAtSeconds);
  return { clock, policies, authenticator, policy, nowSeconds, token };
}

describe('authenticating service tokens', () => {
  test("a token signed with a policy's primary key is accepted and returns the policy's rights", async () => {
    const { authenticator, token } = await setup();
    expect(await authenticator.authenticate(token('iothubowner'))).toEqual({
      keyName: 'iothubowner',
      rights: ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'],
    });
  });

  test("a token signed with a policy's secondary key is accepted", async () => {
    const { authenticator, token, policy } = await setup();
    expect(await authenticator.authenticate(token('registryRead', policy('registryRead').secondaryKey))).toEqual({
      keyName: 'registryRead',
      rights: ['RegistryRead'],
    });
  });

  test('a token without the SharedAccessSignature prefix is accepted', async () => {
    const { authenticator, token } = await setup();
    const bare = token('service').replace(/^SharedAccessSignature /, '');
    expect((await authenticator.authenticate(bare)).keyName).toBe('service');
  });

  test('a token signed with a wrong key is refused with IotHubUnauthorizedAccess', async () => {
    const { authenticator, token } = await setup();
    await expect(authenticator.authenticate(token('iothubowner', generateKey()))).rejects.toMatchObject({
      code: 'IotHubUnauthorizedAccess',
    });
  });

  test("a token signed with another policy's key is refused", async () => {
    const { authenticator, token, policy } = await setup();
    await expect(authenticator.authenticate(token('iothubowner', policy('service').primaryKey))).rejects.toMatchObject({
      code: 'IotHubUnauthorizedAccess',
    });
  });

  test('a token naming an unknown policy is refused with the same message as a wrong key', async () => {
    // GIVEN two hubs, one without the registryRead policy and one where it has other keys
    const withoutPolicy = await setup();
    await withoutPolicy.policies.delete('registryRead');
    const withOtherKeys = await setup();
    // WHEN the same token is presented to both
    const presented = withoutPolicy.token('registryRead', generateKey());
    const unknown = await withoutPolicy.authenticator.authenticate(presented).catch((error: unknown) => error);
    const wrongKey = await withOtherKeys.authenticator.authenticate(presented).catch((error: unknown) => error);
    // THEN nothing tells the caller whether the policy exists
    expect(unknown).toMatchObject({ code: 'IotHubUnauthorizedAccess' });
    expect(wrongKey).toMatchObject({ code: 'IotHubUnauthorizedAccess' });
    expect((unknown as Error).message).toBe((wrongKey as Error).message);
  });

  test('a token whose signature does not cover its se is refused', async () => {
    const { authenticator, token, nowSeconds } = await setup();
    const original = token('iothubowner');
    const tampered = original.replace(/se=\d+/, `se=${nowSeconds() + 10 * HOUR}`);
    expect(tampered).not.toBe(original);
    await expect(authenticator.authenticate(tampered)).rejects.toMatchObject({ code: 'IotHubUnauthorizedAccess' });
  });

  test('a token past its expiry by more than five minutes is refused', async () => {
    const { authenticator, token, nowSeconds, clock } = await setup();
    const presented = token('iothubowner', undefined, nowSeconds() + 60);
    clock.advance(60_000 + SKEW_MS + 1_000);
    await expect(authenticator.authenticate(presented)).rejects.toMatchObject({
      code: 'IotHubUnauthorizedAccess',
      message: expect.stringContaining('expired'),
    });
  });

  test('a token past its expiry by exactly five minutes is still accepted (clock skew)', async () => {
    const { authenticator, token, nowSeconds, clock } = await setup();
    const presented = token('iothubowner', undefined, nowSeconds() + 60);
    clock.advance(60_000 + SKEW_MS);
    expect((await authenticator.authenticate(presented)).keyName).toBe('iothubowner');
  });

  test('a token that expired a minute ago is accepted within the skew', async () => {
    const { authenticator, token, nowSeconds } = await setup();
    expect((await authenticator.authenticate(token('service', undefined, nowSeconds() - 60))).keyName).toBe('service');
  });

  test('a configured skew of zero refuses a token one second past its expiry', async () => {
    const { authenticator, token, nowSeconds, clock } = await setup({ skewMs: 0 });
    const presented = token('service', undefined, nowSeconds() + 10);
    clock.advance(10_000);
    expect((await authenticator.authenticate(presented)).keyName).toBe('service');
    clock.advance(1_000);
    await expect(authenticator.authenticate(presented)).rejects.toMatchObject({ code: 'IotHubUnauthorizedAccess' });
  });

  test('a token for another hub is refused', async () => {
    const { authenticator, token } = await setup();
    await expect(authenticator.authenticate(token('iothubowner', undefined, undefined, 'otherhub.example.com'))).rejects.toMatchObject({
      code: 'IotHubUnauthorizedAccess',
    });
  });

  test('a token for a host that merely starts with the hub name is refused', async () => {
    const { authenticator, token } = await setup();
    await expect(authenticator.authenticate(token('iothubowner', undefined, undefined, `${HOST}.evil.test`))).rejects.toMatchObject({
      code: 'IotHubUnauthorizedAccess',
    });
  });

  test('a token for the hub with a :port suffix is accepted', async () => {
    const { authenticator, token } = await setup();
    expect((await authenticator.authenticate(token('iothubowner', undefined, undefined, `${HOST}:8443`))).keyName).toBe('iothubowner');
  });

  test('a token naming the hub in other letter case is accepted', async () => {
    const { authenticator, token } = await setup();
    expect((await authenticator.authenticate(token('iothubowner', undefined, undefined, HOST.toUpperCase()))).keyName).toBe('iothubowner');
  });

  test('a policy token scoped to a device path is refused', async () => {
    const { authenticator, policy, nowSeconds } = await setup();
    const key = policy('iothubowner').primaryKey;
    for (const signedResource of [`${HOST}/devices/d1`, encodeStrict(`${HOST}/devices/d1`), `${HOST}/`]) {
      const presented = createSasToken({ signedResource, key, expiresAtSeconds: nowSeconds() + HOUR, keyName: 'iothubowner' });
      await expect(authenticator.authenticate(presented)).rejects.toMatchObject({ code: 'IotHubUnauthorizedAccess' });
    }
  });

  test('a device token signed with a policy key (sr with a device path) is refused', async () => {
    const { authenticator, policy, nowSeconds } = await setup();
    const presented = sasRecipes.device(HOST, 'd1', policy('device').primaryKey, nowSeconds() + HOUR, 'device');
    await expect(authenticator.authenticate(presented)).rejects.toMatchObject({ code: 'IotHubUnauthorizedAccess' });
  });

  test('a token without skn is refused, even when signed with a policy key', async () => {
    const { authenticator, policy, nowSeconds } = await setup();
    const presented = createSasToken({ signedResource: HOST, key: policy('iothubowner').primaryKey, expiresAtSeconds: nowSeconds() + HOUR });
    await expect(authenticator.authenticate(presented)).rejects.toMatchObject({
      code: 'IotHubUnauthorizedAccess',
      message: expect.stringContaining('skn'),
    });
  });

  for (const garbage of ['', 'garbage', 'SharedAccessSignature ', 'Bearer abc.def.ghi', 'SharedAccessSignature sr=&sig=&se=', `SharedAccessSignature sr=${HOST}&sig=abc&se=soon&skn=iothubowner`]) {
    test(`garbage ${JSON.stringify(garbage)} is refused with IotHubUnauthorizedAccess`, async () => {
      const { authenticator } = await setup();
      await expect(authenticator.authenticate(garbage)).rejects.toMatchObject({ code: 'IotHubUnauthorizedAccess' });
    });
  }
});

describe('authorizing a principal', () => {
  async function principalOf(keyName: string): Promise<{ principal: ServicePrincipal; authenticator: PolicyAuthenticator }> {
    const { authenticator, token } = await setup();
    return { principal: await authenticator.authenticate(token(keyName)), authenticator };
  }

  const table: Array<[string, Permission[], Permission[]]> = [
    ['iothubowner', ['RegistryRead', 'RegistryWrite', 'ServiceConnect', 'DeviceConnect'], []],
    ['registryRead', ['RegistryRead'], ['RegistryWrite', 'ServiceConnect', 'DeviceConnect']],
    ['registryReadWrite', ['RegistryRead', 'RegistryWrite'], ['ServiceConnect', 'DeviceConnect']],
    ['service', ['ServiceConnect'], ['RegistryRead', 'RegistryWrite', 'DeviceConnect']],
    ['device', ['DeviceConnect'], ['RegistryRead', 'RegistryWrite', 'ServiceConnect']],
  ];
  for (const [keyName, allowed, denied] of table) {
    for (const permission of allowed) {
      test(`${keyName} may use ${permission}`, async () => {
        const { principal, authenticator } = await principalOf(keyName);
        expect(() => authenticator.authorize(principal, permission)).not.toThrow();
      });
    }
    for (const permission of denied) {
      test(`${keyName} cannot use ${permission}: refused with IotHubUnauthorizedAccess`, async () => {
        const { principal, authenticator } = await principalOf(keyName);
        let thrown: unknown;
        try {
          authenticator.authorize(principal, permission);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toMatchObject({ code: 'IotHubUnauthorizedAccess', message: expect.stringContaining(permission) });
      });
    }
  }

  test('RegistryWrite alone implies RegistryRead', async () => {
    const { authenticator } = await setup();
    expect(() => authenticator.authorize({ keyName: 'writer', rights: ['RegistryWrite'] }, 'RegistryRead')).not.toThrow();
  });
});

describe('policy cache', () => {
  test('a rotated key is picked up after invalidate(): the old key is refused, the new one accepted', async () => {
    // GIVEN a hub that has already authenticated with the service policy's primary key
    const { authenticator, policies, policy, token } = await setup();
    const old = policy('service');
    await authenticator.authenticate(token('service', old.primaryKey));
    // WHEN the key is rotated and the cache invalidated
    const rotated: SharedAccessPolicy = { ...old, primaryKey: generateKey() };
    await policies.upsert(rotated);
    authenticator.invalidate();
    // THEN only the new key works
    await expect(authenticator.authenticate(token('service', old.primaryKey))).rejects.toMatchObject({
      code: 'IotHubUnauthorizedAccess',
    });
    expect((await authenticator.authenticate(token('service', rotated.primaryKey))).keyName).toBe('service');
    expect((await authenticator.authenticate(token('service', old.secondaryKey))).keyName).toBe('service');
  });

  test('without invalidate() the cached policies are used', async () => {
    const { authenticator, policies, policy, token } = await setup();
    const old = policy('service');
    await authenticator.authenticate(token('service'));
    await policies.upsert({ ...old, primaryKey: generateKey() });
    expect((await authenticator.authenticate(token('service', old.primaryKey))).keyName).toBe('service');
  });

  test('a deleted policy is refused after invalidate()', async () => {
    const { authenticator, policies, token } = await setup();
    const presented = token('registryReadWrite');
    await authenticator.authenticate(presented);
    await policies.delete('registryReadWrite');
    authenticator.invalidate();
    await expect(authenticator.authenticate(presented)).rejects.toMatchObject({ code: 'IotHubUnauthorizedAccess' });
  });

  test('changed rights are picked up after invalidate()', async () => {
    const { authenticator, policies, policy, token } = await setup();
    await authenticator.authenticate(token('service'));
    await policies.upsert({ ...policy('service'), rights: ['ServiceConnect', 'RegistryRead'] });
    authenticator.invalidate();
    expect((await authenticator.authenticate(token('service'))).rights).toEqual(['ServiceConnect', 'RegistryRead']);
  });

  test('policies are read from the store once for many authentications', async () => {
    const { policies, token, clock } = await setup();
    let reads = 0;
    const counting: PolicyStore = {
      list: () => {
        reads += 1;
        return policies.list();
      },
      upsert: (policy) => policies.upsert(policy),
      delete: (keyName) => policies.delete(keyName),
    };
    const authenticator = new PolicyAuthenticator({ policies: counting, hostName: HOST, clock });
    await Promise.all([authenticator.authenticate(token('service')), authenticator.authenticate(token('iothubowner'))]);
    await authenticator.authenticate(token('registryRead'));
    expect(reads).toBe(1);
  });

  test('a failed policy read is not cached: the next authentication reads again', async () => {
    const { policies, token, clock } = await setup();
    let failNext = true;
    const flaky: PolicyStore = {
      list: () => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('database unavailable'));
        }
        return policies.list();
      },
      upsert: (policy) => policies.upsert(policy),
      delete: (keyName) => policies.delete(keyName),
    };
    const authenticator = new PolicyAuthenticator({ policies: flaky, hostName: HOST, clock });
    await expect(authenticator.authenticate(token('service'))).rejects.toThrow('database unavailable');
    expect((await authenticator.authenticate(token('service'))).keyName).toBe('service');
  });
});
