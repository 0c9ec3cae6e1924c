/**
 * Validation of device and module ids against IoT Hub's rules: up to 128 ASCII letters, digits
 * and the characters `- . % _ * ? ! ( ) , : = @ $ '` (IoT Hub "device identity properties").
 * @module
 */

import { argumentInvalid } from '../errors.ts';

export const MAX_IDENTIFIER_LENGTH = 128;
const IDENTIFIER = /^[A-Za-z0-9\-.%_*?!(),:=@$']+$/;

function checkIdentifier(kind: 'deviceId' | 'moduleId', value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw argumentInvalid(`${kind} is required and must be a non-empty string`);
  }
  if (value.length > MAX_IDENTIFIER_LENGTH) {
    throw argumentInvalid(`${kind} is longer than ${MAX_IDENTIFIER_LENGTH} characters`);
  }
  if (!IDENTIFIER.test(value)) {
    throw argumentInvalid(
      `${kind} '${value}' contains characters that are not allowed: use ASCII letters, digits and - . % _ * ? ! ( ) , : = @ $ '`,
    );
  }
  return value;
}

/** Returns the id when valid, throws ArgumentInvalid naming the problem otherwise. */
export const validateDeviceId = (value: unknown): string => checkIdentifier('deviceId', value);
export const validateModuleId = (value: unknown): string => checkIdentifier('moduleId', value);
