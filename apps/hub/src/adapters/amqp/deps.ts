/**
 * What the AMQP adapter needs from the rest of the hub, injected by the composition root.
 * @module
 */

import type {
  AuthenticatedDevice,
  Clock,
  CloudToDeviceQueue,
  DeviceCredentials,
  EventPipeline,
  EventStore,
  FileUploadService,
  Logger,
  PolicyAuthenticator,
  SessionRegistry,
} from '@tributary/core';

export interface AmqpAdapterDeps {
  hostName: string;
  /** The Event Hub-compatible name (EntityPath) of the built-in endpoint. */
  eventHubName: string;
  authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice>;
  policyAuthenticator: PolicyAuthenticator;
  /** Verifies an Event Hubs SAS token (key as UTF-8) for an `sb://` audience. */
  authorizeEventHubs(token: string, audience: string): Promise<{ keyName: string; expiresAtMs: number }>;
  /** Calls `listener` whenever C2D feedback was recorded; returns the unsubscribe function. */
  onFeedbackRecorded(listener: () => void): () => void;
  sessions: SessionRegistry;
  c2d: CloudToDeviceQueue;
  files: FileUploadService;
  events: EventPipeline;
  eventStore: EventStore;
  clock: Clock;
  logger: Logger;
}
