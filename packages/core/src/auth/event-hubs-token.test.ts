import { describe, expect, test } from 'bun:test';
import { generateKey } from '../identity/keys.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import { type EventHubsTokenDeps, verifyEventHubsToken } from './event-hubs-token.ts';
import { createBuiltInPolicies, type SharedAccessPolicy } from './policies.ts';
import { computeSignature, sasRecipes } from './sas.ts';

const HOST = 'myhub.example.com';
const ENTITY = 'myhub';
const NOW_MS = 1_790_000_000_000;
const NOW_S = NOW_MS / 1000;
const HOUR = 3600;
const PARTITION_AUDIENCE = `sb://${HOST}/${ENTITY}/ConsumerGroups/$Default/Partitions/0`;
const MANAGEMENT_AUDIENCE = `sb://${HOST}/${ENTITY}/$management`;

/**
 * Tokens minted by @azure/core-amqp 4.5.1's `createSasTokenProvider({sharedAccessKeyName: 'service',
 * sharedAccessKey: SDK_KEY}).getToken(audience)` with `Date.now()` fixed at NOW_MS (so `se` =
 * NOW_S + 3600). The SDK cannot be imported from core, so they are recorded here; the hub's
 * event-hubs tests compare live SDK tokens with `sasRecipes.eventHubs` byte for byte.
 */
const SDK_KEY = 'q2PvDgmU0Pz3Wq7bTTWcdiLOXxh2WdH4MQbVvqf0sGE=';
const SDK_TOKENS = {
  entity:
    'SharedAccessSignature sr=sb%3A%2F%2Fmyhub.example.com%2Fmyhub&sig=UU%2B5kxjFUGslsX9T7XSmdJRlu5LpJYUgQCCHFZ6x3jY%3D&se=1790003600&skn=service',
  managementWithPort:
    'SharedAccessSignature sr=sb%3A%2F%2Flocalhost%3A5672%2Fmyhub%2F%24management&sig=7x7m6Dv5JWxKPkKs8Zzo0cTlHOG3geDqZwtmfSrhlqQ%3D&se=1790003600&skn=service',
  partition:
    'SharedAccessSignature sr=sb%3A%2F%2Fmyhub.example.com%2Fmyhub%2FConsumerGroups%2F%24Default%2FPartitions%2F0&sig=y0ckUsARGlVpGqnJQgXup4CB4nn6bIWixr8yU7EMNOY%3D&se=1790003600&skn=service',
};

function setup(hostName = HOST) {
  const policies = createBuiltInPolicies();
  const policy = (keyName: string) => policies.find((p) => p.keyName === keyName)!;
  const deps: EventHubsTokenDeps = { policies, hostName };
  /** A token as @azure/event-hubs makes it from the policy's connection string, for `sb://{host}/{entity}`. */
  const token = (keyName: string, opts: { key?: string; host?: string; entity?: string; expiresAtSeconds?: number } = {}) =>
    sasRecipes.eventHubs(
      opts.host ?? HOST,
      opts.entity ?? ENTITY,
      keyName,
      opts.key ?? policy(keyName).primaryKey,
      opts.expiresAtSeconds ?? NOW_S + HOUR,
    );
  return { deps, policy, token };
}

const sdkPolicy: SharedAccessPolicy = { keyName: 'service', primaryKey: SDK_KEY, secondaryKey: generateKey(), rights: ['ServiceConnect'] };

describe('tokens the Event Hubs SDK makes', () => {
  test('a token from @azure/core-amqp for the entity verifies for a partition audience below it', async () => {
    const principal = await verifyEventHubsToken({ policies: [sdkPolicy], hostName: HOST }, SDK_TOKENS.entity, PARTITION_AUDIENCE, NOW_MS);
    expect(principal).toEqual({ keyName: 'service', rights: ['ServiceConnect'], expiresAtMs: (NOW_S + HOUR) * 1000 });
  });

  test('a token from @azure/core-amqp for its CBS audience verifies for exactly that audience', async () => {
    const deps = { policies: [sdkPolicy], hostName: HOST };
    expect((await verifyEventHubsToken(deps, SDK_TOKENS.partition, PARTITION_AUDIENCE, NOW_MS)).keyName).toBe('service');
  });

  test('an SDK token whose sr carries the port verifies for a hub configured without one', async () => {
    const deps = { policies: [sdkPolicy], hostName: 'localhost' };
    const principal = await verifyEventHubsToken(deps, SDK_TOKENS.managementWithPort, 'sb://localhost:5672/myhub/$management', NOW_MS);
    expect(principal.keyName).toBe('service');
  });

  test('sasRecipes.eventHubs produces the very token the SDK recorded', () => {
    expect(sasRecipes.eventHubs(HOST, ENTITY, 'service', SDK_KEY, NOW_S + HOUR)).toBe(SDK_TOKENS.entity);
  });
});

describe('verifying Event Hubs tokens', () => {
  test("a token signed with a ServiceConnect policy's primary key returns the policy and expiry", async () => {
    const { deps, token } = setup();
    expect(await verifyEventHubsToken(deps, token('service'), MANAGEMENT_AUDIENCE, NOW_MS)).toEqual({
      keyName: 'service',
      rights: ['ServiceConnect'],
      expiresAtMs: (NOW_S + HOUR) * 1000,
    });
  });

  test("a token signed with the policy's secondary key is accepted", async () => {
    const { deps, token, policy } = setup();
    const principal = await verifyEventHubsToken(deps, token('iothubowner', { key: policy('iothubowner').secondaryKey }), PARTITION_AUDIENCE, NOW_MS);
    expect(principal.keyName).toBe('iothubowner');
  });

  test('a namespace-wide token for sb://host/ covers every entity path', async () => {
    const { deps, policy } = setup();
    const sr = encodeURIComponent(`sb://${HOST}/`);
    const se = NOW_S + HOUR;
    const sig = computeSignature(sr, se, policy('service').primaryKey, 'utf8');
    const namespaceToken = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=service`;
    expect((await verifyEventHubsToken(deps, namespaceToken, PARTITION_AUDIENCE, NOW_MS)).keyName).toBe('service');
  });

  test('policies may come from a PolicyStore', async () => {
    const { policies } = createMemoryStores();
    const { token, policy } = setup();
    await policies.upsert(policy('service'));
    const principal = await verifyEventHubsToken({ policies, hostName: HOST }, token('service'), MANAGEMENT_AUDIENCE, NOW_MS);
    expect(principal.keyName).toBe('service');
  });

  test('the host and entity are compared case-insensitively', async () => {
    const { deps, token } = setup();
    const principal = await verifyEventHubsToken(deps, token('service', { host: 'MyHub.Example.COM', entity: 'MYHUB' }), PARTITION_AUDIENCE, NOW_MS);
    expect(principal.keyName).toBe('service');
  });

  test('a token signed with the base64-decoded key, as IoT Hub signs, is refused', async () => {
    const { deps, policy } = setup();
    const sr = encodeURIComponent(`sb://${HOST}/${ENTITY}`);
    const se = NOW_S + HOUR;
    const iotStyleSig = computeSignature(sr, se, policy('service').primaryKey, 'base64');
    const iotStyle = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(iotStyleSig)}&se=${se}&skn=service`;
    await expect(verifyEventHubsToken(deps, iotStyle, MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
      message: "The SAS token signature is not valid for shared access policy 'service'",
    });
  });

  test('a token for another host is refused', async () => {
    const { deps, token } = setup();
    await expect(verifyEventHubsToken(deps, token('service', { host: 'otherhub.example.com' }), MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
      message: expect.stringContaining("not for an sb:// resource of this hub 'myhub.example.com'"),
    });
  });

  test('an audience on another host is refused even with a token for this hub', async () => {
    const { deps, token } = setup();
    const otherAudience = `sb://otherhub.example.com/${ENTITY}/$management`;
    await expect(verifyEventHubsToken(deps, token('service'), otherAudience, NOW_MS)).rejects.toMatchObject({ code: 'IotHubUnauthorized' });
  });

  test('a host that only starts with the hub host is refused', async () => {
    const { deps, token } = setup();
    await expect(verifyEventHubsToken(deps, token('service', { host: `${HOST}.evil.test` }), MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
    });
  });

  test('a token for another entity does not cover this entity', async () => {
    const { deps, token } = setup();
    await expect(verifyEventHubsToken(deps, token('service', { entity: 'myhub2' }), PARTITION_AUDIENCE, NOW_MS)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
      message: expect.stringContaining('does not cover'),
    });
  });

  test('a token for one partition does not cover a sibling partition', async () => {
    const { deps, token } = setup();
    const partitionZero = token('service', { entity: `${ENTITY}/ConsumerGroups/$Default/Partitions/0` });
    const partitionOne = `sb://${HOST}/${ENTITY}/ConsumerGroups/$Default/Partitions/1`;
    await expect(verifyEventHubsToken(deps, partitionZero, partitionOne, NOW_MS)).rejects.toMatchObject({ code: 'IotHubUnauthorized' });
  });

  test('a token whose sr is not an sb:// URI (an IoT service token) is refused', async () => {
    const { deps, policy } = setup();
    const serviceToken = sasRecipes.service(HOST, 'service', policy('service').primaryKey, NOW_S + HOUR);
    await expect(verifyEventHubsToken(deps, serviceToken, MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({ code: 'IotHubUnauthorized' });
  });

  test('an expired token is refused once the skew has passed, and accepted within it', async () => {
    const { deps, token } = setup();
    const expired = token('service', { expiresAtSeconds: NOW_S - 60 });
    await expect(verifyEventHubsToken(deps, expired, MANAGEMENT_AUDIENCE, NOW_MS, 0)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
      message: 'The SAS token has expired',
    });
    expect((await verifyEventHubsToken(deps, expired, MANAGEMENT_AUDIENCE, NOW_MS, 120_000)).keyName).toBe('service');
  });

  test('a token from a policy without ServiceConnect (registryRead) is refused', async () => {
    const { deps, token } = setup();
    await expect(verifyEventHubsToken(deps, token('registryRead'), MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
      message: "Shared access policy 'registryRead' does not grant ServiceConnect, which reading events requires",
    });
  });

  test('a token from the device policy (DeviceConnect only) is refused', async () => {
    const { deps, token } = setup();
    await expect(verifyEventHubsToken(deps, token('device'), MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({ code: 'IotHubUnauthorized' });
  });

  test('a token naming an unknown policy gets the same refusal as a wrong key', async () => {
    const { deps, token } = setup();
    const unknown = await verifyEventHubsToken(deps, token('nobody', { key: generateKey() }), MANAGEMENT_AUDIENCE, NOW_MS).catch((e: unknown) => e);
    const wrongKey = await verifyEventHubsToken(deps, token('service', { key: generateKey() }), MANAGEMENT_AUDIENCE, NOW_MS).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'IotHubUnauthorized' });
    expect((unknown as Error).message.replace('nobody', 'X')).toBe((wrongKey as Error).message.replace('service', 'X'));
  });

  test('a token without skn is refused', async () => {
    const { deps, token } = setup();
    const withoutSkn = token('service').replace(/&skn=service$/, '');
    await expect(verifyEventHubsToken(deps, withoutSkn, MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
      message: 'The SAS token names no shared access policy (skn)',
    });
  });

  test('a malformed token is refused with IotHubUnauthorized, not the parser’s service code', async () => {
    const { deps } = setup();
    await expect(verifyEventHubsToken(deps, 'SharedAccessSignature sr=x&se=1', MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({
      code: 'IotHubUnauthorized',
      message: "SAS token is missing 'sig'",
    });
  });

  test('a token whose signature was made for another se is refused', async () => {
    const { deps, token } = setup();
    const tampered = token('service').replace(`se=${NOW_S + HOUR}`, `se=${NOW_S + 2 * HOUR}`);
    await expect(verifyEventHubsToken(deps, tampered, MANAGEMENT_AUDIENCE, NOW_MS)).rejects.toMatchObject({ code: 'IotHubUnauthorized' });
  });
});
