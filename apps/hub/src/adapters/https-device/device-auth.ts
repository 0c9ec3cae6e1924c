/**
 * Who is calling the HTTPS device API: the SAS token in `Authorization` (device key, module key,
 * or a policy granting DeviceConnect), checked by core's DeviceAuthenticator for the identity the
 * path names. HTTPS is stateless, so each request authenticates on its own.
 * X.509 over HTTPS is not supported yet: Bun's HTTP server does not expose the TLS peer certificate.
 * @module
 */

import { type AuthenticatedDevice, type DeviceCredentials, deviceUnauthorized } from '@tributary/core';

export interface DeviceRequestAuthDeps {
  authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice>;
}

/** The identity behind a device API request for `deviceId` (and `moduleId`); throws IotHubUnauthorized. */
export async function authenticateDeviceRequest(
  authorization: string | null | undefined,
  target: { deviceId: string; moduleId?: string },
  deps: DeviceRequestAuthDeps,
): Promise<AuthenticatedDevice> {
  if (!authorization) throw deviceUnauthorized('The request has no Authorization header with a SharedAccessSignature');
  if (!/^SharedAccessSignature\s/i.test(authorization)) {
    throw deviceUnauthorized('The Authorization header must hold a SharedAccessSignature token');
  }
  return deps.authenticate({ kind: 'sas', ...target, token: authorization });
}
