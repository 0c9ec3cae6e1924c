/**
 * What the MQTT adapter needs from the rest of the hub, injected by the composition root.
 * @module
 */

import type { AuthenticatedDevice, Clock, DeviceCredentials, Logger, SessionRegistry } from '@tributary/core';
import type { IdleWheel } from './idle-wheel.ts';
import type { PersistentSessions } from './persistent-sessions.ts';

export interface MqttAdapterDeps {
  authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice>;
  sessions: SessionRegistry;
  persistentSessions: PersistentSessions;
  /** The CONNECT timeouts and keepalives of all connections, on one timer. */
  idleWheel: IdleWheel;
  clock: Clock;
  logger: Logger;
}
