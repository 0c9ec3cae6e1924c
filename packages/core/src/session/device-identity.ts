/**
 * Who is on the other end of a device connection, once authenticated: the identity a session
 * acts for, how it proved it, and until when that proof holds.
 * @module
 */

export interface AuthMethod {
  scope: 'device' | 'module';
  type: 'sas' | 'x509Certificate' | 'x509CA';
  issuer: 'iothub';
}

export interface AuthenticatedDevice {
  deviceId: string;
  moduleId: string | null;
  generationId: string;
  authMethod: AuthMethod;
  /** SAS sessions end when the token expires (IoT Hub disconnects with 401003); unset for X.509. */
  tokenExpiresAtMs?: number;
}

/** The key a session registry uses: one live connection per device or module identity. */
export function identityKey(deviceId: string, moduleId: string | null): string {
  return moduleId === null ? deviceId : `${deviceId}/${moduleId}`;
}

/** The JSON text IoT Hub puts in `iothub-connection-auth-method`. */
export function authMethodJson(authMethod: AuthMethod): string {
  return JSON.stringify({ ...authMethod, acceptingIpFilterRule: null });
}
