/**
 * THE channel between one connected device (or module) and the hub (STYLE.md §3). Adapters turn
 * their protocol into calls on this class and implement its `DeviceSink`; every behaviour IoT Hub
 * defines for a connection lives here or in the services it calls: telemetry acknowledged only
 * after commit, twin reads and reported patches, C2D delivery with a bounded in-flight window and
 * settlement, desired-property delivery, and direct-method correlation with timeouts.
 * It never sees bytes, topics, links or HTTP.
 * @module
 */

import type { Clock } from '../clock.ts';
import {
  deviceConnectionClosed,
  gatewayTimeout,
  HubError,
  invalidOperation,
  messageTooLarge,
} from '../errors.ts';
import type { JsonObject, JsonValue } from '../identity/types.ts';
import type { Logger } from '../log.ts';
import { MAX_TELEMETRY_BYTES, type TelemetryMessage } from '../telemetry/message.ts';
import { type AuthenticatedDevice, authMethodJson } from './device-identity.ts';
import type { DeviceSink } from './device-sink.ts';
import type { C2dOutcome, SessionServices } from './session-services.ts';

export interface DeviceSessionOptions {
  /** C2D messages delivered but not yet settled, per session. */
  maxC2dInFlight: number;
}

export const DEFAULT_SESSION_OPTIONS: DeviceSessionOptions = { maxC2dInFlight: 10 };

/** How the session tells its registry about changes that matter beyond it. */
export interface SessionHooks {
  closed(session: DeviceSession): void;
  methodsEnabled(session: DeviceSession): void;
}

export interface MethodResult {
  status: number;
  payload: JsonValue;
}

interface PendingMethod {
  resolve(result: MethodResult): void;
  reject(error: HubError): void;
  cancelTimeout(): void;
}

type CloseReason = Parameters<DeviceSink['close']>[0];

const textEncoder = new TextEncoder();

/**
 * A message's size as IoT Hub counts it against the 256 KB limit: the body, the values of the
 * system properties, and the names and values of application properties, in UTF-8 bytes.
 */
function messageSize(message: TelemetryMessage): number {
  let size = message.body.byteLength;
  for (const value of Object.values(message.systemProperties)) size += textEncoder.encode(String(value ?? '')).byteLength;
  for (const [key, value] of Object.entries(message.applicationProperties)) {
    size += textEncoder.encode(key).byteLength + textEncoder.encode(value).byteLength;
  }
  return size;
}

export class DeviceSession {
  readonly identity: AuthenticatedDevice;
  readonly connectedAtMs: number;
  #lastActivityTime: number;
  readonly #sink: DeviceSink;
  readonly #services: SessionServices;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #options: DeviceSessionOptions;
  readonly #hooks: SessionHooks;
  readonly #authMethodJson: string;

  #isClosed = false;
  #isC2dEnabled = false;
  #isMethodsEnabled = false;
  #isDesiredEnabled = false;
  readonly #c2dInFlight = new Set<string>();
  #isPumping = false;
  #shouldPumpAgain = false;
  readonly #pendingMethods = new Map<string, PendingMethod>();
  #nextRequestId = 1;

  constructor(deps: {
    identity: AuthenticatedDevice;
    sink: DeviceSink;
    services: SessionServices;
    clock: Clock;
    logger: Logger;
    hooks: SessionHooks;
    options?: Partial<DeviceSessionOptions>;
  }) {
    this.identity = deps.identity;
    this.#sink = deps.sink;
    this.#services = deps.services;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#hooks = deps.hooks;
    this.#options = { ...DEFAULT_SESSION_OPTIONS, ...deps.options };
    this.connectedAtMs = deps.clock.now();
    this.#lastActivityTime = this.connectedAtMs;
    this.#authMethodJson = authMethodJson(deps.identity.authMethod);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }
  get isMethodsEnabled(): boolean {
    return this.#isMethodsEnabled && !this.#isClosed;
  }
  get lastActivityTime(): number {
    return this.#lastActivityTime;
  }
  /** `device 'd1'` or `module 'm1' of device 'd1'`, for messages. */
  get description(): string {
    const { deviceId, moduleId } = this.identity;
    return moduleId === null ? `device '${deviceId}'` : `module '${moduleId}' of device '${deviceId}'`;
  }

  /** Resolves once the message is committed to the event stream: only then may the adapter acknowledge it. */
  async sendTelemetry(message: TelemetryMessage): Promise<void> {
    this.#assertOpen();
    if (messageSize(message) > MAX_TELEMETRY_BYTES) throw messageTooLarge(MAX_TELEMETRY_BYTES);
    if (message.systemProperties['iothub-outputname'] !== undefined && this.identity.moduleId === null) {
      throw invalidOperation('Only modules send to outputs');
    }
    this.#touch();
    await this.#services.telemetry.append({
      deviceId: this.identity.deviceId,
      moduleId: this.identity.moduleId,
      messageSource: 'Telemetry',
      systemProperties: message.systemProperties,
      applicationProperties: message.applicationProperties,
      body: message.body,
      connection: { authMethod: this.#authMethodJson, generationId: this.identity.generationId },
    });
  }

  async getTwin(): Promise<JsonObject> {
    this.#assertOpen();
    this.#touch();
    return this.#services.twins.getDeviceTwin(this.identity.deviceId, this.identity.moduleId);
  }

  /** Resolves to the new reported `$version`. */
  async patchReported(patch: JsonObject): Promise<number> {
    this.#assertOpen();
    this.#touch();
    return this.#services.twins.patchReported(this.identity.deviceId, this.identity.moduleId, patch);
  }

  /** Starts delivering queued cloud-to-device messages through the sink. */
  enableC2d(): void {
    this.#assertOpen();
    if (this.identity.moduleId !== null) throw invalidOperation('Modules do not receive cloud-to-device messages');
    this.#isC2dEnabled = true;
    this.#pumpC2d();
  }

  disableC2d(): void {
    this.#isC2dEnabled = false;
  }

  /** Settles a delivered message: complete, reject (dead-letter) or abandon (redeliver). */
  async settleC2d(lockToken: string, outcome: C2dOutcome): Promise<void> {
    this.#assertOpen();
    this.#touch();
    this.#c2dInFlight.delete(lockToken);
    try {
      await this.#services.messages.settle(this.identity.deviceId, lockToken, outcome);
    } finally {
      this.#pumpC2d();
    }
  }

  /** The hub has queued a message for this device: deliver it if the device listens. */
  notifyC2dQueued(): void {
    this.#pumpC2d();
  }

  enableMethods(): void {
    this.#assertOpen();
    this.#isMethodsEnabled = true;
    this.#hooks.methodsEnabled(this);
  }

  disableMethods(): void {
    this.#isMethodsEnabled = false;
  }

  enableDesired(): void {
    this.#assertOpen();
    this.#isDesiredEnabled = true;
  }

  disableDesired(): void {
    this.#isDesiredEnabled = false;
  }

  /** A desired delta (with `$version`) committed by a service: forwarded when the device listens. */
  deliverDesired(patch: JsonObject): void {
    if (this.#isClosed || !this.#isDesiredEnabled) return;
    this.#sink.desiredPatch(patch);
  }

  /**
   * Sends a direct method request and waits for the device's answer. Rejects with GatewayTimeout
   * (504101) after `responseTimeoutMs`, or DeviceConnectionClosedRemotely when the connection ends.
   */
  invokeMethod(methodName: string, payload: JsonValue, responseTimeoutMs: number): Promise<MethodResult> {
    if (!this.isMethodsEnabled) return Promise.reject(invalidOperation(`${this.description} does not listen for methods`));
    const requestId = (this.#nextRequestId++).toString(16);
    return new Promise<MethodResult>((resolve, reject) => {
      const cancelTimeout = this.#clock.schedule(responseTimeoutMs, () => {
        this.#pendingMethods.delete(requestId);
        reject(gatewayTimeout(`${this.description} to answer method '${methodName}'`));
      });
      this.#pendingMethods.set(requestId, { resolve, reject, cancelTimeout });
      try {
        this.#sink.invokeMethod({ requestId, methodName, payload });
      } catch (error) {
        this.#pendingMethods.delete(requestId);
        cancelTimeout();
        throw error;
      }
    });
  }

  /** The device's answer to a method request; answers to unknown or timed-out requests are ignored. */
  respondToMethod(requestId: string, status: number, payload: JsonValue): void {
    this.#touch();
    const pending = this.#pendingMethods.get(requestId);
    if (!pending) {
      this.#logger.debug('method_response_ignored', { requestId });
      return;
    }
    this.#pendingMethods.delete(requestId);
    pending.cancelTimeout();
    pending.resolve({ status, payload });
  }

  /** The hub ends this session (takeover, token expiry): the adapter is told to close, then the session closes. */
  async terminate(reason: CloseReason): Promise<void> {
    if (this.#isClosed) return;
    try {
      this.#sink.close(reason);
    } finally {
      await this.close();
    }
  }

  /**
   * The connection is gone: unsettled C2D messages are abandoned (redelivered later), pending
   * method calls fail, and the registry is told. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const [requestId, pending] of this.#pendingMethods) {
      pending.cancelTimeout();
      pending.reject(deviceConnectionClosed(this.description));
      this.#pendingMethods.delete(requestId);
    }
    const unsettled = [...this.#c2dInFlight];
    this.#c2dInFlight.clear();
    // Together, so the queue releases them in one step.
    await Promise.all(
      unsettled.map((lockToken) =>
        this.#services.messages.settle(this.identity.deviceId, lockToken, 'abandon').catch((error) => {
          // A lock that expired meanwhile is already released; nothing is lost either way.
          this.#logger.debug('c2d_abandon_on_close_failed', { lockToken, error });
        }),
      ),
    );
    this.#hooks.closed(this);
  }

  #assertOpen(): void {
    if (this.#isClosed) throw invalidOperation(`The session of ${this.description} is closed`);
  }

  #touch(): void {
    this.#lastActivityTime = this.#clock.now();
  }

  /** Fills the in-flight window from the queue; re-runs when asked again while running. */
  #pumpC2d(): void {
    if (this.#isPumping) {
      this.#shouldPumpAgain = true;
      return;
    }
    this.#isPumping = true;
    void (async () => {
      try {
        do {
          this.#shouldPumpAgain = false;
          while (!this.#isClosed && this.#isC2dEnabled && this.#c2dInFlight.size < this.#options.maxC2dInFlight) {
            const room = this.#options.maxC2dInFlight - this.#c2dInFlight.size;
            const messages = await this.#services.messages.receiveMany(this.identity.deviceId, room);
            if (this.#isClosed || !this.#isC2dEnabled) {
              await Promise.all(messages.map((message) => this.#services.messages.settle(this.identity.deviceId, message.lockToken, 'abandon')));
              break;
            }
            for (const message of messages) {
              this.#c2dInFlight.add(message.lockToken);
              this.#sink.deliverC2d(message);
            }
            if (messages.length < room) break;
          }
        } while (this.#shouldPumpAgain && !this.#isClosed);
      } catch (error) {
        this.#logger.error('c2d_delivery_failed', { deviceId: this.identity.deviceId, error });
      } finally {
        this.#isPumping = false;
      }
    })();
  }
}
