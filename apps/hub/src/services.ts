/**
 * Builds core's service graph over the opened stores: the identity registry, policy and device
 * authentication (with its identity cache, invalidated by every registry write and by the
 * identity change feed), CA certificates, the event pipeline, twins, the C2D queue, the session
 * registry with its group-committed connection states, and direct methods, wired to each other
 * (desired patches and queued C2D reach live sessions). Also owns their background work
 * (retention, C2D expiry sweep) and stopping it.
 * @module
 */

import {
  CaCertificateService,
  CloudToDeviceQueue,
  type BlobContentStore,
  type Clock,
  ConnectionStateBatches,
  DeviceAuthenticator,
  FileUploadService,
  type FileUploadOptions,
  EventPipeline,
  type EventStore,
  type HubStores,
  IdentityCache,
  type IdentityChangeFeed,
  IdentityRegistry,
  invalidatingRegistryStore,
  type Logger,
  MethodInvoker,
  PolicyAuthenticator,
  SessionRegistry,
  TwinService,
  verifyEventHubsToken,
} from '@tributary/core';
import { ConsoleSessions } from './console-api/console-sessions.ts';
import { TelemetryThroughput } from './console-api/telemetry-throughput.ts';
import { ServiceAuthenticator } from './service-api/auth.ts';
import type { ServiceApiDeps } from './service-api/context.ts';

/** Expired cloud-to-device messages are swept this often. */
export const C2D_SWEEP_INTERVAL_MS = 10_000;
/** Expired console sessions are deleted this often. */
export const CONSOLE_SESSION_SWEEP_INTERVAL_MS = 60 * 60 * 1000;
/** Connected devices' lastActivityTime reaches the registry this often. */
export const ACTIVITY_FLUSH_INTERVAL_MS = 60_000;

export interface HubServices {
  registry: IdentityRegistry;
  policyAuthenticator: PolicyAuthenticator;
  /** Service API callers: policy SAS tokens and console sessions. */
  serviceAuthenticator: ServiceAuthenticator;
  consoleSessions: ConsoleSessions;
  throughput: TelemetryThroughput;
  deviceAuthenticator: DeviceAuthenticator;
  caCertificates: CaCertificateService;
  events: EventPipeline;
  eventStore: EventStore;
  twins: TwinService;
  c2d: CloudToDeviceQueue;
  sessions: SessionRegistry;
  methods: MethodInvoker;
  files: FileUploadService;
  partitionCount: number;
  /** Calls `listener` whenever C2D delivery feedback was recorded (for feedback receivers); returns the unsubscribe function. */
  onFeedbackRecorded(listener: () => void): () => void;
  /** Verifies an Event Hubs SAS token (key as UTF-8) against the policies, for an `sb://` audience. */
  authorizeEventHubs(token: string, audience: string): Promise<{ keyName: string; expiresAtMs: number }>;
  /** Ends sessions and background work and flushes the pipeline (stores stay open). */
  stop(): Promise<void>;
}

export async function createHubServices(
  stores: HubStores,
  options: {
    hostName: string;
    clock: Clock;
    logger: Logger;
    /** Where uploaded files' bytes live (the hub's data dir; memory in tests). */
    blobs: BlobContentStore;
    partitionCount?: number;
    /**
     * Event batches committed at once (EventPipeline commitLanes); default 1. C2D and twin writes
     * keep one lane: their batches grow with load, and on PostgreSQL one lane of larger batches
     * beat four lanes of smaller ones, with about 40 % less database CPU per C2D message
     * (C2D 2.7–3.3k → 4.5–5.1k msg/s, twin patches 17–18k → 21k/s; `bun run bench --storage postgres`).
     */
    commitLanes?: number;
    fileUpload?: Partial<FileUploadOptions>;
    /** Identity changes made by other hub processes on the same database; none on PGlite. */
    identityChanges?: IdentityChangeFeed;
  },
): Promise<HubServices> {
  const { clock, logger, hostName } = options;
  const identities = new IdentityCache({ store: stores.registry, clock });
  const registryStore = invalidatingRegistryStore(stores.registry, identities);
  const events = new EventPipeline({
    store: stores.events,
    clock,
    logger: logger.child({ component: 'events' }),
    partitionCount: options.partitionCount,
    commitLanes: options.commitLanes,
  });
  await events.start();
  const stopRetention = events.startRetention();

  // Twins and C2D notify live sessions; the registry is created after them, so bind late.
  let sessions: SessionRegistry | undefined;
  const twins = new TwinService({
    twins: stores.twins,
    registry: registryStore,
    clock,
    logger,
    onDesiredPatched: (target, patch) => sessions?.desiredPatched(target, patch),
  });
  const feedbackListeners = new Set<() => void>();
  const c2d = new CloudToDeviceQueue({
    store: stores.c2d,
    clock,
    logger: logger.child({ component: 'c2d' }),
    notifier: {
      onMessageQueued: (deviceId) => sessions?.c2dQueued(deviceId),
      onFeedbackRecorded: () => feedbackListeners.forEach((listener) => listener()),
    },
  });
  const connections = new ConnectionStateBatches({ store: stores.registry, clock });
  sessions = new SessionRegistry({
    services: { telemetry: events, twins, messages: c2d, connections },
    clock,
    logger,
  });

  const stopSweep = scheduleRepeating(clock, C2D_SWEEP_INTERVAL_MS, async () => {
    try {
      await c2d.expireDue();
    } catch (error) {
      logger.error('c2d_sweep_failed', { error });
    }
  });

  const stopActivityFlush = scheduleRepeating(clock, ACTIVITY_FLUSH_INTERVAL_MS, () => sessions.flushActivity());

  const policyAuthenticator = new PolicyAuthenticator({ policies: stores.policies, hostName, clock });
  const consoleSessions = new ConsoleSessions({ operators: stores.operators, sessions: stores.consoleSessions, clock });
  const stopConsoleSessionSweep = scheduleRepeating(clock, CONSOLE_SESSION_SWEEP_INTERVAL_MS, async () => {
    try {
      await consoleSessions.sweepExpired();
    } catch (error) {
      logger.warn('console_session_sweep_failed', { error });
    }
  });
  const throughput = new TelemetryThroughput({ pipeline: events, store: stores.events, clock });
  await throughput.start();
  const stopIdentityChanges = await options.identityChanges?.subscribe({
    identityChanged: (deviceId) => identities.invalidate(deviceId),
    changesMissed: () => identities.clear(),
  });

  return {
    registry: new IdentityRegistry({ store: registryStore, clock }),
    policyAuthenticator,
    serviceAuthenticator: new ServiceAuthenticator(policyAuthenticator, consoleSessions),
    consoleSessions,
    throughput,
    deviceAuthenticator: new DeviceAuthenticator({
      registry: identities,
      policies: stores.policies,
      certificates: stores.certificates,
      hostName,
      clock,
    }),
    caCertificates: new CaCertificateService({ store: stores.certificates, clock }),
    events,
    eventStore: stores.events,
    twins,
    c2d,
    sessions,
    methods: new MethodInvoker(sessions),
    files: new FileUploadService({
      store: stores.files,
      blobs: options.blobs,
      settings: stores.settings,
      hostName,
      clock,
      logger: logger.child({ component: 'files' }),
      options: options.fileUpload,
    }),
    partitionCount: events.partitionCount,
    onFeedbackRecorded(listener) {
      feedbackListeners.add(listener);
      return () => feedbackListeners.delete(listener);
    },
    authorizeEventHubs: (token, audience) => verifyEventHubsToken({ policies: stores.policies, hostName }, token, audience, clock.now()),
    async stop() {
      stopSweep();
      stopActivityFlush();
      stopConsoleSessionSweep();
      throughput.stop();
      stopRetention();
      await sessions.closeAll();
      await connections.flush();
      await stopIdentityChanges?.();
      await events.close();
    },
  };
}

/** What the service REST API needs from the service graph. */
export function serviceApiDeps(services: HubServices, logger: Logger): ServiceApiDeps {
  return {
    registry: services.registry,
    authenticator: services.serviceAuthenticator,
    logger,
    twins: services.twins,
    c2d: services.c2d,
    methods: services.methods,
    caCertificates: services.caCertificates,
    files: services.files,
    events: { pipeline: services.events, store: services.eventStore, partitionCount: services.partitionCount },
  };
}

/** Runs `work` every `intervalMs`, never two at once (the next run is scheduled after one ends). */
function scheduleRepeating(clock: Clock, intervalMs: number, work: () => Promise<void>): () => void {
  let cancel: () => void = () => {};
  let isStopped = false;
  const arm = () => {
    cancel = clock.schedule(intervalMs, () => {
      void work().finally(() => {
        if (!isStopped) arm();
      });
    });
  };
  arm();
  return () => {
    isStopped = true;
    cancel();
  };
}
