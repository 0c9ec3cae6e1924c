/**
 * The live sessions of this hub process, one per device or module identity. Owns takeover (a new
 * connection for the same identity closes the older one, IoT Hub's 400027), the Connected /
 * Disconnected state and lastActivityTime in the identity registry, disconnecting SAS sessions
 * when their token expires (401003), and routing hub-side events (desired patches, queued C2D,
 * method calls) to the session that holds the identity. Scale-out replaces this one interface.
 * @module
 */

import type { Clock } from '../clock.ts';
import type { JsonObject } from '../identity/types.ts';
import type { Logger } from '../log.ts';
import type { AuthenticatedDevice } from './device-identity.ts';
import { identityKey } from './device-identity.ts';
import { DeviceSession, type DeviceSessionOptions } from './device-session.ts';
import type { DeviceSink } from './device-sink.ts';
import type { SessionServices } from './session-services.ts';

export interface IdentityTarget {
  deviceId: string;
  moduleId: string | null;
}

/** A connection or disconnection, for lifecycle and connection-state events. */
export interface ConnectionEvent extends IdentityTarget {
  isConnected: boolean;
  atMs: number;
}

export class SessionRegistry {
  readonly #sessions = new Map<string, DeviceSession>();
  readonly #expiryTimers = new Map<DeviceSession, () => void>();
  readonly #flushedActivity = new WeakMap<DeviceSession, number>();
  readonly #methodWaiters = new Map<string, Set<(session: DeviceSession) => void>>();
  readonly #connectionListeners = new Set<(event: ConnectionEvent) => void>();
  readonly #deps: { services: SessionServices; clock: Clock; logger: Logger; options?: Partial<DeviceSessionOptions> };

  constructor(deps: { services: SessionServices; clock: Clock; logger: Logger; options?: Partial<DeviceSessionOptions> }) {
    this.#deps = deps;
  }

  /**
   * Opens the session of an authenticated identity. An older session of the same identity is
   * terminated first (ConnectionForcefullyClosedOnNewConnection). Connected is recorded without
   * being waited for: the registry's connectionState is IoT Hub's eventually consistent view,
   * which the device never reads, and the connection services keep one identity's changes in
   * order, so its Disconnected cannot overtake it. Listeners hear of it once it is written.
   */
  async open(identity: AuthenticatedDevice, sink: DeviceSink): Promise<DeviceSession> {
    const key = identityKey(identity.deviceId, identity.moduleId);
    const session = new DeviceSession({
      identity,
      sink,
      services: this.#deps.services,
      clock: this.#deps.clock,
      logger: this.#deps.logger.child({ deviceId: identity.deviceId, moduleId: identity.moduleId }),
      hooks: { closed: (closed) => this.#closed(closed), methodsEnabled: (enabled) => this.#methodsEnabled(enabled) },
      options: this.#deps.options,
    });
    const previous = this.#sessions.get(key);
    this.#sessions.set(key, session);
    if (previous) {
      this.#deps.logger.info('device_connection_taken_over', { deviceId: identity.deviceId, moduleId: identity.moduleId });
      await previous.terminate({
        code: 'ConnectionForcefullyClosedOnNewConnection',
        message: `A new connection of ${previous.description} replaced this one`,
      });
    }
    this.#scheduleExpiry(session, identity.tokenExpiresAtMs);
    void this.#record(session, true);
    return session;
  }

  /**
   * A renewed token for a live session (AMQP CBS put-token on the same link): the session now
   * ends when the new token expires instead.
   */
  renewToken(session: DeviceSession, tokenExpiresAtMs: number): void {
    if (session.isClosed) return;
    this.#scheduleExpiry(session, tokenExpiresAtMs);
  }

  #scheduleExpiry(session: DeviceSession, tokenExpiresAtMs: number | undefined): void {
    this.#expiryTimers.get(session)?.();
    this.#expiryTimers.delete(session);
    if (tokenExpiresAtMs === undefined) return;
    const cancel = this.#deps.clock.schedule(tokenExpiresAtMs - this.#deps.clock.now(), () => {
      void session.terminate({ code: 'IotHubUnauthorized', message: 'The SAS token of this connection expired' });
    });
    this.#expiryTimers.set(session, cancel);
  }

  /**
   * A session for one request of a stateless protocol (HTTPS): the same behaviours (telemetry
   * after commit, twins, C2D settlement) without registering a connection, so it never takes
   * over the identity's MQTT or AMQP connection nor changes its connection state. It cannot
   * receive pushes: its sink refuses them.
   */
  transient(identity: AuthenticatedDevice): DeviceSession {
    const refuse = () => {
      throw new Error('A transient (request-scoped) session receives no pushes');
    };
    return new DeviceSession({
      identity,
      sink: { deliverC2d: refuse, desiredPatch: refuse, invokeMethod: refuse, close: () => {} },
      services: this.#deps.services,
      clock: this.#deps.clock,
      logger: this.#deps.logger.child({ deviceId: identity.deviceId, moduleId: identity.moduleId }),
      hooks: { closed: () => {}, methodsEnabled: () => {} },
      options: this.#deps.options,
    });
  }

  /** The live session of an identity, if connected to this process. */
  get(deviceId: string, moduleId: string | null = null): DeviceSession | undefined {
    return this.#sessions.get(identityKey(deviceId, moduleId));
  }

  get connectedCount(): number {
    return this.#sessions.size;
  }

  /**
   * The session of the identity once it listens for methods, waiting up to `timeoutMs` for it to
   * connect and subscribe; undefined when it does not.
   */
  waitForMethods(target: IdentityTarget, timeoutMs: number): Promise<DeviceSession | undefined> {
    const current = this.get(target.deviceId, target.moduleId);
    if (current?.isMethodsEnabled) return Promise.resolve(current);
    if (timeoutMs <= 0) return Promise.resolve(undefined);
    const key = identityKey(target.deviceId, target.moduleId);
    return new Promise((resolve) => {
      const waiters = this.#methodWaiters.get(key) ?? new Set();
      this.#methodWaiters.set(key, waiters);
      const cancel = this.#deps.clock.schedule(timeoutMs, () => {
        waiters.delete(found);
        if (waiters.size === 0 && this.#methodWaiters.get(key) === waiters) this.#methodWaiters.delete(key);
        resolve(undefined);
      });
      const found = (session: DeviceSession) => {
        cancel();
        resolve(session);
      };
      waiters.add(found);
    });
  }

  /** A service changed desired properties: forward the delta to the connected identity. */
  desiredPatched(target: IdentityTarget, patch: JsonObject): void {
    this.get(target.deviceId, target.moduleId)?.deliverDesired(patch);
  }

  /** A cloud-to-device message was queued for `deviceId`. */
  c2dQueued(deviceId: string): void {
    this.get(deviceId, null)?.notifyC2dQueued();
  }

  /** Listens to connections and disconnections (for lifecycle events and routing). */
  onConnection(listener: (event: ConnectionEvent) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  /**
   * Writes the lastActivityTime of sessions active since the last flush to the identity registry
   * (the hub calls this periodically, so the registry stays close to the truth without one write
   * per message). The connection time is left as it was.
   */
  async flushActivity(): Promise<void> {
    const active = [...this.#sessions.values()].filter(
      (session) => !session.isClosed && (this.#flushedActivity.get(session) ?? session.connectedAtMs) < session.lastActivityTime,
    );
    // All at once: the connection services write them together.
    await Promise.all(active.map((session) => this.#flushSessionActivity(session)));
  }

  async #flushSessionActivity(session: DeviceSession): Promise<void> {
    const lastActivityTime = session.lastActivityTime;
    try {
      await this.#deps.services.connections.record(session.identity.deviceId, session.identity.moduleId, {
        isConnected: true,
        atMs: session.connectedAtMs,
        lastActivityTime,
      });
      this.#flushedActivity.set(session, lastActivityTime);
    } catch (error) {
      this.#deps.logger.warn('device_activity_not_recorded', { deviceId: session.identity.deviceId, error });
    }
  }

  /** Ends every session (shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.#sessions.values()].map((session) =>
        session.terminate({ code: 'ServerError', message: 'The hub is shutting down' }),
      ),
    );
  }

  #methodsEnabled(session: DeviceSession): void {
    const key = identityKey(session.identity.deviceId, session.identity.moduleId);
    const waiters = this.#methodWaiters.get(key);
    if (!waiters || this.#sessions.get(key) !== session) return;
    this.#methodWaiters.delete(key);
    for (const waiter of waiters) waiter(session);
  }

  #closed(session: DeviceSession): void {
    this.#expiryTimers.get(session)?.();
    this.#expiryTimers.delete(session);
    const key = identityKey(session.identity.deviceId, session.identity.moduleId);
    // After a takeover the newer session owns the identity and its Connected state.
    if (this.#sessions.get(key) !== session) return;
    this.#sessions.delete(key);
    void this.#record(session, false);
  }

  async #record(session: DeviceSession, isConnected: boolean): Promise<void> {
    const { deviceId, moduleId } = session.identity;
    const atMs = this.#deps.clock.now();
    try {
      await this.#deps.services.connections.record(deviceId, moduleId, {
        isConnected,
        atMs,
        lastActivityTime: session.lastActivityTime,
      });
    } catch (error) {
      this.#deps.logger.error('connection_state_not_recorded', { deviceId, moduleId, isConnected, error });
    }
    for (const listener of this.#connectionListeners) listener({ deviceId, moduleId, isConnected, atMs });
  }
}
