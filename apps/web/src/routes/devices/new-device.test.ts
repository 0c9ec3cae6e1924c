import { describe, expect, test } from 'bun:test';
import { normaliseThumbprint, toAuthentication, type NewDeviceAuthForm } from './new-device.ts';

const form: NewDeviceAuthForm = {
  type: 'sas',
  isKeyGenerated: true,
  primaryKey: ' p ',
  secondaryKey: 's',
  primaryThumbprint: 'aa:bb',
  secondaryThumbprint: '',
};

describe('toAuthentication', () => {
  test('generated SAS keys are sent empty so the hub creates them', () => {
    expect(toAuthentication(form)).toEqual({ type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } });
  });

  test('given SAS keys are sent trimmed', () => {
    expect(toAuthentication({ ...form, isKeyGenerated: false })).toEqual({ type: 'sas', symmetricKey: { primaryKey: 'p', secondaryKey: 's' } });
  });

  test('self-signed sends normalised thumbprints, a missing secondary as null', () => {
    expect(toAuthentication({ ...form, type: 'selfSigned' })).toEqual({
      type: 'selfSigned',
      x509Thumbprint: { primaryThumbprint: 'AABB', secondaryThumbprint: null },
    });
  });

  test('CA-signed needs nothing else', () => {
    expect(toAuthentication({ ...form, type: 'certificateAuthority' })).toEqual({ type: 'certificateAuthority' });
  });
});

test('thumbprints lose colons and spaces and become upper case', () => {
  expect(normaliseThumbprint(' 9f:3a 0b ')).toBe('9F3A0B');
});
