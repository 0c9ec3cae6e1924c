/**
 * What the MQTT adapter needs from the rest of the hub, injected by the composition root.
 * @module
 */

import type { AuthenticatedDevice, Clock, DeviceCredentials, Logger, SessionRegistry } from '@tributary/core';
import type { PersistentSessions } from './persistent-sessions.ts';

export interface MqttAdapterDeps {
  authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice>;
  sessions: SessionRegistry;
  persistentSessions: PersistentSessions;
  clock: Clock;
  logger: Logger;
}
