// The `authentication` body of a new device from the New device form's choices.
import type { Authentication } from '#lib/api/types.ts';

export type AuthChoice = 'sas' | 'selfSigned' | 'certificateAuthority';

export interface NewDeviceAuthForm {
  type: AuthChoice;
  /** SAS only: let the hub generate both keys. */
  isKeyGenerated: boolean;
  primaryKey: string;
  secondaryKey: string;
  primaryThumbprint: string;
  secondaryThumbprint: string;
}

/** IoT Hub's authentication mechanism for the form; empty SAS keys ask the hub to generate them. */
export function toAuthentication(form: NewDeviceAuthForm): Authentication {
  switch (form.type) {
    case 'sas':
      return {
        type: 'sas',
        symmetricKey: form.isKeyGenerated
          ? { primaryKey: '', secondaryKey: '' }
          : { primaryKey: form.primaryKey.trim(), secondaryKey: form.secondaryKey.trim() },
      };
    case 'selfSigned':
      return {
        type: 'selfSigned',
        x509Thumbprint: {
          primaryThumbprint: normaliseThumbprint(form.primaryThumbprint),
          secondaryThumbprint: normaliseThumbprint(form.secondaryThumbprint) || null,
        },
      };
    case 'certificateAuthority':
      return { type: 'certificateAuthority' };
  }
}

/** Thumbprints are often pasted as `ab:cd:…` or with spaces; IoT Hub stores bare upper-case hex. */
export function normaliseThumbprint(thumbprint: string): string {
  return thumbprint.replace(/[\s:]/g, '').toUpperCase();
}
