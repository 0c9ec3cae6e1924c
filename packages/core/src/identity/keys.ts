/**
 * Symmetric keys and X.509 thumbprints of identities: generation when left empty and validation
 * when given (IoT Hub accepts base64 keys of 16 to 64 bytes; thumbprints are SHA-1 or SHA-256 hex).
 * @module
 */

import { randomBytes } from 'node:crypto';
import { argumentInvalid } from '../errors.ts';
import type { Authentication, AuthenticationInput, AuthenticationType } from './types.ts';
import { AUTHENTICATION_TYPES } from './types.ts';

const KEY_BYTES = 32;
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 64;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const THUMBPRINT = /^(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/;

/** A new random 256-bit key, base64 encoded, as IoT Hub generates them. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

function checkKey(name: string, key: string): string {
  const decodedLength = BASE64.test(key) && key.length % 4 === 0 ? Buffer.from(key, 'base64').length : -1;
  if (decodedLength < MIN_KEY_BYTES || decodedLength > MAX_KEY_BYTES) {
    throw argumentInvalid(`${name} must be base64 text of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes`);
  }
  return key;
}

function checkThumbprint(name: string, value: string): string {
  const compact = value.replace(/:/g, '');
  if (!THUMBPRINT.test(compact)) {
    throw argumentInvalid(`${name} must be a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) thumbprint`);
  }
  return compact.toUpperCase();
}

const blank = (value: string | null | undefined): boolean => value === null || value === undefined || value === '';

/**
 * Turns what a caller sent into a complete `Authentication`: the type defaults as the SDK does
 * (thumbprint present → selfSigned, else sas), given keys are validated and empty ones generated.
 * On a replace, `existing` supplies the keys for blanks: the SDK sends empty keys with every
 * `update()` that omits authentication, and a status change must not rotate a device's keys.
 */
export function normalizeAuthentication(input: AuthenticationInput | undefined, existing?: Authentication): Authentication {
  const thumbprints = input?.x509Thumbprint ?? {};
  const keys = input?.symmetricKey ?? {};
  const hasThumbprint = !blank(thumbprints.primaryThumbprint) || !blank(thumbprints.secondaryThumbprint);
  const type: AuthenticationType = input?.type ?? (hasThumbprint ? 'selfSigned' : 'sas');
  if (!AUTHENTICATION_TYPES.includes(type)) {
    throw argumentInvalid(`authentication.type must be one of ${AUTHENTICATION_TYPES.join(', ')}`);
  }
  const none = { symmetricKey: { primaryKey: null, secondaryKey: null }, x509Thumbprint: { primaryThumbprint: null, secondaryThumbprint: null } };
  switch (type) {
    case 'sas':
      if (hasThumbprint) throw argumentInvalid('authentication of type sas cannot carry x509 thumbprints');
      return {
        ...none,
        type,
        symmetricKey: {
          primaryKey: blank(keys.primaryKey)
            ? (existing?.symmetricKey.primaryKey ?? generateKey())
            : checkKey('primaryKey', keys.primaryKey!),
          secondaryKey: blank(keys.secondaryKey)
            ? (existing?.symmetricKey.secondaryKey ?? generateKey())
            : checkKey('secondaryKey', keys.secondaryKey!),
        },
      };
    case 'selfSigned':
      if (blank(thumbprints.primaryThumbprint)) {
        throw argumentInvalid('authentication of type selfSigned needs x509Thumbprint.primaryThumbprint');
      }
      return {
        ...none,
        type,
        x509Thumbprint: {
          primaryThumbprint: checkThumbprint('primaryThumbprint', thumbprints.primaryThumbprint!),
          secondaryThumbprint: blank(thumbprints.secondaryThumbprint)
            ? null
            : checkThumbprint('secondaryThumbprint', thumbprints.secondaryThumbprint!),
        },
      };
    case 'certificateAuthority':
    case 'none':
      return { ...none, type };
  }
}
