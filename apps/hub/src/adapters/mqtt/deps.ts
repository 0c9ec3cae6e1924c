/**
 * What the MQTT adapter needs from the rest of the hub, injected by the composition root.
 * @module
 */

import type { AuthenticatedDevice, Clock, Logger, SessionRegistry } from '@tributary/core';
import type { PersistentSessions } from './persistent-sessions.ts';

/** Credentials as a device presents them; core's DeviceAuthenticator verifies them. */
export type DeviceCredentials =
  | { kind: 'sas'; deviceId: string; moduleId?: string; token: string }
  | { kind: 'x509'; deviceId: string; moduleId?: string; certificateChain: Uint8Array[] };

export interface MqttAdapterDeps {
  authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice>;
  sessions: SessionRegistry;
  persistentSessions: PersistentSessions;
  clock: Clock;
  logger: Logger;
}
