import { describe, expect, test } from 'bun:test';
import { generateKey, normalizeAuthentication } from './keys.ts';
import type { Authentication, AuthenticationInput } from './types.ts';
import { thrownBy } from '../testing/hub-error-assertions.ts';

const keyOf = (bytes: number, fill = 7) => Buffer.alloc(bytes, fill).toString('base64');
const KEY_A = keyOf(32, 1);
const KEY_B = keyOf(32, 2);
const SHA1 = 'ab'.repeat(20);
const SHA1_UPPER = SHA1.toUpperCase();
const SHA256 = 'c3'.repeat(32);
const SHA256_UPPER = SHA256.toUpperCase();
const colonSeparated = (hex: string) => hex.match(/../g)!.join(':');

function expectGeneratedKey(key: string | null): void {
  expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  expect(Buffer.from(key!, 'base64')).toHaveLength(32);
}

describe('generateKey', () => {
  test('returns 44 characters of base64 encoding 32 random bytes', () => {
    expectGeneratedKey(generateKey());
  });

  test('returns a different key each call', () => {
    const keys = new Set(Array.from({ length: 20 }, generateKey));
    expect(keys.size).toBe(20);
  });
});

describe('normalizeAuthentication: type defaulting as the SDK does', () => {
  test('no authentication at all becomes sas with two generated keys', () => {
    const auth = normalizeAuthentication(undefined);
    expect(auth.type).toBe('sas');
    expectGeneratedKey(auth.symmetricKey.primaryKey);
    expectGeneratedKey(auth.symmetricKey.secondaryKey);
    expect(auth.x509Thumbprint).toEqual({ primaryThumbprint: null, secondaryThumbprint: null });
  });

  test('no type and a primary thumbprint becomes selfSigned', () => {
    const auth = normalizeAuthentication({ x509Thumbprint: { primaryThumbprint: SHA1_UPPER } });
    expect(auth.type).toBe('selfSigned');
    expect(auth.x509Thumbprint.primaryThumbprint).toBe(SHA1_UPPER);
  });

  test('no type and only a secondary thumbprint becomes selfSigned, refused for lacking the primary', () => {
    const error = thrownBy(() => normalizeAuthentication({ x509Thumbprint: { secondaryThumbprint: SHA1_UPPER } }));
    expect(error).toMatchObject({ code: 'ArgumentInvalid', message: expect.stringContaining('primaryThumbprint') });
  });

  test('no type and empty thumbprint strings becomes sas', () => {
    const auth = normalizeAuthentication({ x509Thumbprint: { primaryThumbprint: '', secondaryThumbprint: '' } });
    expect(auth.type).toBe('sas');
    expectGeneratedKey(auth.symmetricKey.primaryKey);
  });

  test('no type and null thumbprints becomes sas', () => {
    const auth = normalizeAuthentication({ x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null } });
    expect(auth.type).toBe('sas');
  });

  test('an unknown type is refused with ArgumentInvalid', () => {
    const input = { type: 'password' } as unknown as AuthenticationInput;
    expect(thrownBy(() => normalizeAuthentication(input))).toMatchObject({ code: 'ArgumentInvalid' });
  });
});

describe('normalizeAuthentication: sas keys', () => {
  test('empty keys (what the SDK sends) are replaced by two different generated keys', () => {
    const auth = normalizeAuthentication({ type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } });
    expectGeneratedKey(auth.symmetricKey.primaryKey);
    expectGeneratedKey(auth.symmetricKey.secondaryKey);
    expect(auth.symmetricKey.primaryKey).not.toBe(auth.symmetricKey.secondaryKey);
  });

  test('null symmetricKey is treated as empty keys', () => {
    const auth = normalizeAuthentication({ type: 'sas', symmetricKey: null });
    expectGeneratedKey(auth.symmetricKey.primaryKey);
    expectGeneratedKey(auth.symmetricKey.secondaryKey);
  });

  test('given valid keys are kept as they are', () => {
    const auth = normalizeAuthentication({ type: 'sas', symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } });
    expect(auth).toEqual({
      type: 'sas',
      symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B },
      x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
    });
  });

  test('a given primary with an empty secondary keeps the primary and generates the secondary', () => {
    const auth = normalizeAuthentication({ type: 'sas', symmetricKey: { primaryKey: KEY_A, secondaryKey: '' } });
    expect(auth.symmetricKey.primaryKey).toBe(KEY_A);
    expectGeneratedKey(auth.symmetricKey.secondaryKey);
  });

  test('keys of exactly 16 and 64 bytes are accepted', () => {
    const auth = normalizeAuthentication({ symmetricKey: { primaryKey: keyOf(16), secondaryKey: keyOf(64) } });
    expect(auth.symmetricKey).toEqual({ primaryKey: keyOf(16), secondaryKey: keyOf(64) });
  });

  const badKeys: Array<[string, string]> = [
    ['text that is not base64', 'not a key!'],
    ['base64url characters', `${'-_'.repeat(21)}AA`],
    ['base64 without its padding', keyOf(32).replace(/=+$/, '')],
    ['base64 with padding in the middle', `AAAA=AAA${keyOf(24)}`],
    ['15 bytes (too short)', keyOf(15)],
    ['65 bytes (too long)', keyOf(65)],
  ];
  for (const [what, key] of badKeys) {
    test(`a primary key of ${what} is refused with ArgumentInvalid naming primaryKey`, () => {
      const error = thrownBy(() => normalizeAuthentication({ type: 'sas', symmetricKey: { primaryKey: key, secondaryKey: KEY_B } }));
      expect(error).toMatchObject({ code: 'ArgumentInvalid', message: expect.stringContaining('primaryKey') });
    });

    test(`a secondary key of ${what} is refused with ArgumentInvalid naming secondaryKey`, () => {
      const error = thrownBy(() => normalizeAuthentication({ type: 'sas', symmetricKey: { primaryKey: KEY_A, secondaryKey: key } }));
      expect(error).toMatchObject({ code: 'ArgumentInvalid', message: expect.stringContaining('secondaryKey') });
    });
  }

  test('sas with an x509 thumbprint is refused with ArgumentInvalid', () => {
    const input: AuthenticationInput = { type: 'sas', x509Thumbprint: { primaryThumbprint: SHA1 } };
    expect(thrownBy(() => normalizeAuthentication(input))).toMatchObject({ code: 'ArgumentInvalid' });
  });
});

describe('normalizeAuthentication: replacing with existing keys', () => {
  const existing: Authentication = {
    type: 'sas',
    symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B },
    x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
  };

  test('empty keys keep the existing keys instead of generating new ones', () => {
    const auth = normalizeAuthentication({ type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } }, existing);
    expect(auth.symmetricKey).toEqual({ primaryKey: KEY_A, secondaryKey: KEY_B });
  });

  test('no authentication keeps the existing keys', () => {
    expect(normalizeAuthentication(undefined, existing).symmetricKey).toEqual({ primaryKey: KEY_A, secondaryKey: KEY_B });
  });

  test('a given key replaces only its own slot; the blank one keeps the existing key', () => {
    const replacement = keyOf(32, 9);
    const auth = normalizeAuthentication({ symmetricKey: { primaryKey: '', secondaryKey: replacement } }, existing);
    expect(auth.symmetricKey).toEqual({ primaryKey: KEY_A, secondaryKey: replacement });
  });

  test('switching from selfSigned to sas generates keys, since the existing identity has none', () => {
    const selfSigned: Authentication = {
      type: 'selfSigned',
      symmetricKey: { primaryKey: null, secondaryKey: null },
      x509Thumbprint: { primaryThumbprint: SHA1_UPPER, secondaryThumbprint: null },
    };
    const auth = normalizeAuthentication({ type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } }, selfSigned);
    expect(auth.type).toBe('sas');
    expectGeneratedKey(auth.symmetricKey.primaryKey);
    expectGeneratedKey(auth.symmetricKey.secondaryKey);
    expect(auth.x509Thumbprint).toEqual({ primaryThumbprint: null, secondaryThumbprint: null });
  });
});

describe('normalizeAuthentication: selfSigned thumbprints', () => {
  test('a SHA-1 thumbprint (40 hex digits) is accepted and uppercased', () => {
    const auth = normalizeAuthentication({ type: 'selfSigned', x509Thumbprint: { primaryThumbprint: SHA1 } });
    expect(auth).toEqual({
      type: 'selfSigned',
      symmetricKey: { primaryKey: null, secondaryKey: null },
      x509Thumbprint: { primaryThumbprint: SHA1_UPPER, secondaryThumbprint: null },
    });
  });

  test('a SHA-256 thumbprint (64 hex digits) is accepted and uppercased', () => {
    const auth = normalizeAuthentication({ type: 'selfSigned', x509Thumbprint: { primaryThumbprint: SHA256 } });
    expect(auth.x509Thumbprint.primaryThumbprint).toBe(SHA256_UPPER);
  });

  test('colon-separated thumbprints have their colons stripped', () => {
    const auth = normalizeAuthentication({
      type: 'selfSigned',
      x509Thumbprint: { primaryThumbprint: colonSeparated(SHA1), secondaryThumbprint: colonSeparated(SHA256) },
    });
    expect(auth.x509Thumbprint).toEqual({ primaryThumbprint: SHA1_UPPER, secondaryThumbprint: SHA256_UPPER });
  });

  test('selfSigned keeps no symmetric keys even when some are sent', () => {
    const auth = normalizeAuthentication({
      type: 'selfSigned',
      symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B },
      x509Thumbprint: { primaryThumbprint: SHA1 },
    });
    expect(auth.symmetricKey).toEqual({ primaryKey: null, secondaryKey: null });
  });

  test('selfSigned without a primary thumbprint is refused with ArgumentInvalid', () => {
    expect(thrownBy(() => normalizeAuthentication({ type: 'selfSigned' }))).toMatchObject({ code: 'ArgumentInvalid' });
    expect(
      thrownBy(() => normalizeAuthentication({ type: 'selfSigned', x509Thumbprint: { primaryThumbprint: '', secondaryThumbprint: SHA1 } })),
    ).toMatchObject({ code: 'ArgumentInvalid' });
  });

  const badThumbprints: Array<[string, string]> = [
    ['39 hex digits', SHA1.slice(1)],
    ['41 hex digits', `${SHA1}a`],
    ['a non-hex letter', `${SHA1.slice(1)}g`],
    ['48 hex digits (neither SHA-1 nor SHA-256)', 'ab'.repeat(24)],
    ['65 hex digits', `${SHA256}a`],
    ['spaces between bytes', SHA1.match(/../g)!.join(' ')],
  ];
  for (const [what, thumbprint] of badThumbprints) {
    test(`a primary thumbprint of ${what} is refused with ArgumentInvalid`, () => {
      const error = thrownBy(() => normalizeAuthentication({ type: 'selfSigned', x509Thumbprint: { primaryThumbprint: thumbprint } }));
      expect(error).toMatchObject({ code: 'ArgumentInvalid', message: expect.stringContaining('primaryThumbprint') });
    });

    test(`a secondary thumbprint of ${what} is refused with ArgumentInvalid`, () => {
      const error = thrownBy(() =>
        normalizeAuthentication({ type: 'selfSigned', x509Thumbprint: { primaryThumbprint: SHA1, secondaryThumbprint: thumbprint } }),
      );
      expect(error).toMatchObject({ code: 'ArgumentInvalid', message: expect.stringContaining('secondaryThumbprint') });
    });
  }
});

describe('normalizeAuthentication: certificateAuthority and none', () => {
  for (const type of ['certificateAuthority', 'none'] as const) {
    test(`${type} carries neither keys nor thumbprints`, () => {
      const auth = normalizeAuthentication({ type, symmetricKey: { primaryKey: KEY_A, secondaryKey: KEY_B } });
      expect(auth).toEqual({
        type,
        symmetricKey: { primaryKey: null, secondaryKey: null },
        x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null },
      });
    });
  }
});
