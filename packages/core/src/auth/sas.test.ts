import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
// azure-iot-common is a devDependency of apps/hub only, so it is reached through that package's node_modules.
import { SharedAccessSignature, encodeUriComponentStrict } from 'azure-iot-common';
import {
  DEFAULT_SAS_SKEW_MS,
  computeSignature,
  createSasToken,
  deriveDeviceKey,
  encodeStrict,
  isSasExpired,
  parseSasToken,
  resourceCovers,
  sasRecipes,
  verifySasSignature,
  type SasToken,
} from './sas.ts';
import { expectHubError } from '../testing/hub-error-assertions.ts';

const HOST = 'localhost:38883';
const DEVICE_KEY = 'dGhpcyBpcyBhIDMyIGJ5dGUgZGV2aWNlIGtleSEhISE=';
const OTHER_KEY = 'YW5vdGhlciAzMiBieXRlIGtleSwgbm90IHRoZSBzYW1lIQ==';
const POLICY_KEY = 'cG9saWN5IGtleSBmb3IgaXRob2h1Ym93bmVyIHBvbGljeQ==';
const SE = 1_900_000_000;
const SPECIAL_DEVICE_ID = "dev!'(x)*";

/** What the device SDK does: strict-encode `host/devices/{d}[/modules/{m}]` and hand it to `create`. */
function sdkDeviceToken(deviceId: string, key: string, keyName?: string, moduleId?: string): string {
  const resource = `${HOST}/devices/${deviceId}${moduleId ? `/modules/${moduleId}` : ''}`;
  return SharedAccessSignature.create(encodeUriComponentStrict(resource), keyName as string, key, SE).toString();
}

describe('tokens made by the official SDK (azure-iot-common 1.13.3)', () => {
  const cases: Array<{ name: string; token: string; key: string; resourceUri: string; keyName?: string }> = [
    {
      name: "device token for a deviceId with !'()*",
      token: sdkDeviceToken(SPECIAL_DEVICE_ID, DEVICE_KEY),
      key: DEVICE_KEY,
      resourceUri: `${HOST}/devices/${SPECIAL_DEVICE_ID}`,
    },
    {
      name: 'device token signed with a hub policy key',
      token: sdkDeviceToken('dev1', POLICY_KEY, 'device'),
      key: POLICY_KEY,
      resourceUri: `${HOST}/devices/dev1`,
      keyName: 'device',
    },
    {
      name: 'module token',
      token: sdkDeviceToken('dev1', DEVICE_KEY, undefined, 'mod(1)'),
      key: DEVICE_KEY,
      resourceUri: `${HOST}/devices/dev1/modules/mod(1)`,
    },
    {
      name: 'service token with a raw host:port sr',
      token: SharedAccessSignature.create(HOST, 'iothubowner', POLICY_KEY, SE).toString(),
      key: POLICY_KEY,
      resourceUri: HOST,
      keyName: 'iothubowner',
    },
  ];

  for (const c of cases) {
    test(`${c.name} parses and verifies with the right key`, () => {
      const token = parseSasToken(c.token);
      expect(token.resourceUri).toBe(c.resourceUri);
      expect(token.expiresAtSeconds).toBe(SE);
      expect(token.keyName).toBe(c.keyName);
      expect(verifySasSignature(token, c.key)).toBe(true);
    });

    test(`${c.name} is rejected with a different key`, () => {
      expect(verifySasSignature(parseSasToken(c.token), OTHER_KEY)).toBe(false);
    });

    test(`${c.name} is rejected when se is changed`, () => {
      const tampered = c.token.replace(`se=${SE}`, `se=${SE + 3600}`);
      expect(tampered).not.toBe(c.token);
      expect(verifySasSignature(parseSasToken(tampered), c.key)).toBe(false);
    });

    test(`${c.name} is rejected when sr is changed`, () => {
      const token = parseSasToken(c.token);
      const tampered = c.token.replace(`sr=${token.signedResource}`, `sr=${token.signedResource}x`);
      expect(tampered).not.toBe(c.token);
      expect(verifySasSignature(parseSasToken(tampered), c.key)).toBe(false);
    });
  }

  test('the SDK emits sr, sig, skn, se, which our device recipe reproduces byte for byte', () => {
    expect(sasRecipes.device(HOST, SPECIAL_DEVICE_ID, DEVICE_KEY, SE)).toBe(sdkDeviceToken(SPECIAL_DEVICE_ID, DEVICE_KEY));
    expect(sasRecipes.device(HOST, 'dev1', POLICY_KEY, SE, 'device')).toBe(sdkDeviceToken('dev1', POLICY_KEY, 'device'));
  });

  test('our module and service recipes reproduce the SDK token byte for byte', () => {
    expect(sasRecipes.module(HOST, 'dev1', 'mod(1)', DEVICE_KEY, SE)).toBe(
      sdkDeviceToken('dev1', DEVICE_KEY, undefined, 'mod(1)'),
    );
    expect(sasRecipes.service(HOST, 'iothubowner', POLICY_KEY, SE)).toBe(
      SharedAccessSignature.create(HOST, 'iothubowner', POLICY_KEY, SE).toString(),
    );
  });

  test("encodeStrict matches the SDK's encodeUriComponentStrict, including lowercase %2a", () => {
    const text = "a b/c:d!e'f(g)h*i~j_k.l-m%n&o=p+q";
    expect(encodeStrict(text)).toBe(encodeUriComponentStrict(text));
    expect(encodeStrict("!'()*")).toBe('%21%27%28%29%2a');
  });
});

describe('recipes', () => {
  test('device token sr is the strict-encoded host/devices/deviceId and the token verifies', () => {
    const token = parseSasToken(sasRecipes.device(HOST, SPECIAL_DEVICE_ID, DEVICE_KEY, SE));
    expect(token.signedResource).toBe('localhost%3A38883%2Fdevices%2Fdev%21%27%28x%29%2a');
    expect(token.keyName).toBeUndefined();
    expect(verifySasSignature(token, DEVICE_KEY)).toBe(true);
  });

  test('DPS token has a raw sr with slashes, skn=registration, and verifies with the enrollment key', () => {
    const text = sasRecipes.dps('0ne00000001', 'reg-1', DEVICE_KEY, SE);
    expect(text).toStartWith('SharedAccessSignature sr=0ne00000001/registrations/reg-1&sig=');
    const token = parseSasToken(text);
    expect(token.resourceUri).toBe('0ne00000001/registrations/reg-1');
    expect(token.keyName).toBe('registration');
    expect(verifySasSignature(token, DEVICE_KEY)).toBe(true);
  });

  test('Event Hubs token signs with the UTF-8 bytes of the key: it verifies as utf8 and fails as base64', () => {
    // A real Event Hubs key is base64 text, so decoding it would succeed and give different key bytes.
    const text = sasRecipes.eventHubs('localhost:25671', 'myhub', 'service', POLICY_KEY, SE);
    const token = parseSasToken(text);
    expect(token.signedResource).toBe(encodeURIComponent('sb://localhost:25671/myhub'));
    expect(token.resourceUri).toBe('sb://localhost:25671/myhub');
    expect(token.keyName).toBe('service');
    expect(verifySasSignature(token, POLICY_KEY, 'utf8')).toBe(true);
    expect(verifySasSignature(token, POLICY_KEY, 'base64')).toBe(false);
  });

  test('Event Hubs token matches an independent node:crypto computation in @azure/core-amqp field order', () => {
    const sr = encodeURIComponent('sb://localhost:25671/myhub');
    const sig = createHmac('sha256', POLICY_KEY).update(`${sr}\n${SE}`).digest('base64');
    expect(sasRecipes.eventHubs('localhost:25671', 'myhub', 'service', POLICY_KEY, SE)).toBe(
      `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${SE}&skn=service`,
    );
  });

  test('createSasToken output parses back and verifies, with skn only when a keyName is given', () => {
    const withName = createSasToken({ signedResource: 'hub.local', key: POLICY_KEY, expiresAtSeconds: SE, keyName: 'reg(ro)' });
    expect(withName).toContain('&skn=reg%28ro%29&');
    expect(parseSasToken(withName).keyName).toBe('reg(ro)');
    expect(verifySasSignature(parseSasToken(withName), POLICY_KEY)).toBe(true);
    expect(createSasToken({ signedResource: 'hub.local', key: POLICY_KEY, expiresAtSeconds: SE })).not.toContain('skn=');
  });

  test('computeSignature is base64 HMAC-SHA256 of sr, newline, se under the base64-decoded key', () => {
    const expected = createHmac('sha256', Buffer.from(DEVICE_KEY, 'base64')).update(`abc\n${SE}`).digest('base64');
    expect(computeSignature('abc', SE, DEVICE_KEY)).toBe(expected);
  });

  test('computeSignature throws ArgumentInvalid for a key that is not base64', () => {
    expectHubError(() => computeSignature('abc', SE, 'not base64!'), 'ArgumentInvalid');
  });
});

describe('verifySasSignature', () => {
  const token = parseSasToken(sasRecipes.device(HOST, 'dev1', DEVICE_KEY, SE));

  test('answers false, not an exception, for a key that is not valid base64 or is empty', () => {
    expect(verifySasSignature(token, 'not base64!')).toBe(false);
    expect(verifySasSignature(token, `${DEVICE_KEY}#`)).toBe(false);
    expect(verifySasSignature(token, '')).toBe(false);
  });

  test('answers false for a signature of the wrong length', () => {
    expect(verifySasSignature({ ...token, signature: token.signature.slice(0, -1) }, DEVICE_KEY)).toBe(false);
    expect(verifySasSignature({ ...token, signature: '' }, DEVICE_KEY)).toBe(false);
  });
});

describe('parseSasToken', () => {
  const sig = 'c2lnbmF0dXJlU0VDUkVUc2lnbmF0dXJlU0VDUkVUeHh4eA==';
  const encodedSig = encodeURIComponent(sig);

  test('accepts the fields in any order, with and without the SharedAccessSignature prefix', () => {
    const expected: SasToken = {
      signedResource: 'host%2Fdevices%2Fd1',
      resourceUri: 'host/devices/d1',
      signature: sig,
      expiresAtSeconds: 1700000000,
      keyName: 'device',
    };
    const orders = [
      `sr=host%2Fdevices%2Fd1&sig=${encodedSig}&skn=device&se=1700000000`,
      `se=1700000000&skn=device&sig=${encodedSig}&sr=host%2Fdevices%2Fd1`,
      `sig=${encodedSig}&se=1700000000&sr=host%2Fdevices%2Fd1&skn=device`,
    ];
    for (const body of orders) {
      expect(parseSasToken(body)).toEqual(expected);
      expect(parseSasToken(`SharedAccessSignature ${body}`)).toEqual(expected);
    }
  });

  test('splits each field on its first "=", so unencoded base64 padding stays in the value', () => {
    const token = parseSasToken(`SharedAccessSignature sr=host&sig=${sig}&se=1700000000&skn=a=b`);
    expect(token.signature).toBe(sig);
    expect(token.keyName).toBe('a=b');
  });

  test('ignores unknown fields', () => {
    expect(parseSasToken(`sr=host&sig=${encodedSig}&se=1&foo=bar`).expiresAtSeconds).toBe(1);
  });

  const malformed: Array<[string, string]> = [
    ['an empty string', ''],
    ['a bare prefix', 'SharedAccessSignature '],
    ['a prefix glued to the fields', `SharedAccessSignaturesr=host&sig=${encodedSig}&se=1`],
    ['missing sr', `sig=${encodedSig}&se=1700000000`],
    ['an empty sr', `sr=&sig=${encodedSig}&se=1700000000`],
    ['missing sig', 'sr=host&se=1700000000'],
    ['missing se', `sr=host&sig=${encodedSig}`],
    ['a fractional se', `sr=host&sig=${encodedSig}&se=1700000000.5`],
    ['a negative se', `sr=host&sig=${encodedSig}&se=-1`],
    ['a non-numeric se', `sr=host&sig=${encodedSig}&se=soon`],
    ['an se with a leading zero', `sr=host&sig=${encodedSig}&se=01700000000`],
    ['an se beyond a safe integer', `sr=host&sig=${encodedSig}&se=99999999999999999999`],
    ['a duplicate sr', `sr=host&sr=other&sig=${encodedSig}&se=1`],
    ['a duplicate sig', `sr=host&sig=${encodedSig}&sig=${encodedSig}&se=1`],
    ['a field without "="', `sr=host&${sig}&se=1`],
    ['an sr with broken percent-encoding', `sr=host%2&sig=${encodedSig}&se=1`],
    ['a sig with broken percent-encoding', `sr=host&sig=${encodedSig}%E0%A4%A&se=1`],
    ['an empty skn', `sr=host&sig=${encodedSig}&se=1&skn=`],
  ];
  for (const [what, text] of malformed) {
    test(`rejects ${what} with IotHubUnauthorizedAccess and a message without the signature`, () => {
      const err = expectHubError(() => parseSasToken(text), 'IotHubUnauthorizedAccess');
      expect(err.message).not.toContain(sig);
      expect(err.message).not.toContain(encodedSig);
      expect(err.message).not.toContain('c2lnbmF0dXJl');
    });
  }
});

describe('isSasExpired', () => {
  const token = { expiresAtSeconds: 1000 } as SasToken;

  test('a token is still valid up to the default five minutes of skew past se', () => {
    expect(DEFAULT_SAS_SKEW_MS).toBe(300_000);
    expect(isSasExpired(token, 999_000)).toBe(false);
    expect(isSasExpired(token, 1_000_000 + DEFAULT_SAS_SKEW_MS)).toBe(false);
  });

  test('a token is expired one millisecond after se plus skew', () => {
    expect(isSasExpired(token, 1_000_000 + DEFAULT_SAS_SKEW_MS + 1)).toBe(true);
  });

  test('a custom skew of zero expires the token right after se', () => {
    expect(isSasExpired(token, 1_000_000, 0)).toBe(false);
    expect(isSasExpired(token, 1_000_001, 0)).toBe(true);
  });
});

describe('resourceCovers', () => {
  const cases: Array<[string, string, boolean]> = [
    ['host/devices/d1', 'host/devices/d1', true],
    ['host/devices/d1', 'host/devices/d1/modules/m1', true],
    ['host/devices/d1', 'host/devices/d10', false],
    ['host/devices/d1', 'host/devices/d', false],
    ['host/devices/d1/modules/m1', 'host/devices/d1', false],
    ['host/devices/d1/modules/m1', 'host/devices/d1/modules/m2', false],
    ['HOST/Devices/D1', 'host/devices/d1', true],
    ['host/devices/d1/', 'host/devices/d1', true],
    ['host/devices/d1', 'host/devices/d1/', true],
    ['host', 'host/devices/d1', true],
    ['host', 'hostile/devices/d1', false],
    ['localhost:25671', 'localhost:25671/devices/d1', true],
    ['sb://localhost/myhub', 'sb://localhost/myhub/consumergroups/$default', true],
    ['', 'host/devices/d1', false],
  ];
  for (const [scope, target, covers] of cases) {
    test(`'${scope}' ${covers ? 'covers' : 'does not cover'} '${target}'`, () => {
      expect(resourceCovers(scope, target)).toBe(covers);
    });
  }
});

describe('deriveDeviceKey', () => {
  const groupKey = 'Z3JvdXAgZW5yb2xsbWVudCBwcmltYXJ5IGtleSAxMjM0NTY=';

  test('equals base64 HMAC-SHA256 of the registrationId under the decoded group key', () => {
    const expected = createHmac('sha256', Buffer.from(groupKey, 'base64')).update('reg-1', 'utf8').digest('base64');
    expect(deriveDeviceKey(groupKey, 'reg-1')).toBe(expected);
    expect(deriveDeviceKey(groupKey, 'reg-2')).not.toBe(expected);
  });

  test('a DPS token signed with the derived key verifies against the recomputed key, not the group key', () => {
    const derived = deriveDeviceKey(groupKey, 'reg-1');
    const token = parseSasToken(sasRecipes.dps('0ne00000001', 'reg-1', derived, SE));
    expect(verifySasSignature(token, deriveDeviceKey(groupKey, 'reg-1'))).toBe(true);
    expect(verifySasSignature(token, groupKey)).toBe(false);
  });

  test('throws ArgumentInvalid for a group key that is not base64', () => {
    expectHubError(() => deriveDeviceKey('%%%', 'reg-1'), 'ArgumentInvalid');
  });
});
