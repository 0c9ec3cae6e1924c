/**
 * The `authentication` object of devices and modules, both directions.
 * @module
 */

import type { Authentication, AuthenticationInput, AuthenticationType } from '@tributary/core';
import { type Fields, objectAt, optionalNullableString, optionalObjectAt, optionalString } from './fields.ts';

export function authenticationJson(authentication: Authentication) {
  return {
    symmetricKey: { ...authentication.symmetricKey },
    x509Thumbprint: { ...authentication.x509Thumbprint },
    type: authentication.type,
  };
}

export function parseAuthentication(fields: Fields, path: string): AuthenticationInput | undefined {
  const value = fields.authentication;
  if (value === undefined || value === null) return undefined;
  const auth = objectAt(value, `${path}.authentication`);
  const where = `${path}.authentication`;
  const symmetricKey = optionalObjectAt(auth, 'symmetricKey', where);
  const x509Thumbprint = optionalObjectAt(auth, 'x509Thumbprint', where);
  return {
    type: optionalString(auth, 'type', where) as AuthenticationType | undefined,
    symmetricKey: symmetricKey && {
      primaryKey: optionalNullableString(symmetricKey, 'primaryKey', `${where}.symmetricKey`),
      secondaryKey: optionalNullableString(symmetricKey, 'secondaryKey', `${where}.symmetricKey`),
    },
    x509Thumbprint: x509Thumbprint && {
      primaryThumbprint: optionalNullableString(x509Thumbprint, 'primaryThumbprint', `${where}.x509Thumbprint`),
      secondaryThumbprint: optionalNullableString(x509Thumbprint, 'secondaryThumbprint', `${where}.x509Thumbprint`),
    },
  };
}
