/**
 * Who is calling the HTTPS device API, for the identity the path names: the SAS token in
 * `Authorization` (device key, module key, or a policy granting DeviceConnect), or else the
 * X.509 certificate the client presented in the TLS handshake (ClientConnection). Both are
 * checked by core's DeviceAuthenticator. HTTPS is stateless, so each request authenticates on its own.
 * @module
 */

import type { Context } from 'hono';
import { type AuthenticatedDevice, type DeviceCredentials, deviceUnauthorized } from '@tributary/core';
import type { ClientConnectionEnv } from '../../listeners/client-connection.ts';

export interface DeviceRequestAuthDeps {
  authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice>;
}

/** The identity behind a device API request for `deviceId` (and `moduleId`); throws IotHubUnauthorized. */
export async function authenticateDeviceRequest(
  c: Context<ClientConnectionEnv>,
  target: { deviceId: string; moduleId?: string },
  deps: DeviceRequestAuthDeps,
): Promise<AuthenticatedDevice> {
  const authorization = c.req.header('authorization');
  const client = c.env?.client;
  if (!authorization) {
    if (client?.certificateChain.length) return deps.authenticate({ kind: 'x509', ...target, certificateChain: client.certificateChain });
    throw deviceUnauthorized('The request has neither an Authorization header with a SharedAccessSignature nor a TLS client certificate');
  }
  if (!/^SharedAccessSignature\s/i.test(authorization)) {
    throw deviceUnauthorized('The Authorization header must hold a SharedAccessSignature token');
  }
  return deps.authenticate({ kind: 'sas', ...target, token: authorization });
}
