/**
 * Test doubles for the session seam (STYLE.md §3, §8): a `DeviceSink` that records every push, and
 * fake `SessionServices` (telemetry that can be held or fail, twins, a C2D queue with lock tokens,
 * connection states). Session tests and adapter tests share them. Never imported by production code.
 * @module
 */

import { HubError } from '../errors.ts';
import type { JsonObject } from '../identity/types.ts';
import type { ConnectionStateChange } from '../ports.ts';
import type { AuthenticatedDevice, AuthMethod } from '../session/device-identity.ts';
import type { C2dDelivery, DeviceSink, MethodRequest } from '../session/device-sink.ts';
import type {
  C2dOutcome,
  ConnectionStates,
  DeviceMessages,
  DeviceTwins,
  SessionServices,
  TelemetrySink,
} from '../session/session-services.ts';
import { Gate } from './gate.ts';

export type SinkCloseReason = Parameters<DeviceSink['close']>[0];

/** One push from a session, in the order it happened. */
export type SinkCall =
  | { kind: 'deliverC2d'; message: C2dDelivery }
  | { kind: 'desiredPatch'; patch: JsonObject }
  | { kind: 'invokeMethod'; request: MethodRequest }
  | { kind: 'close'; reason: SinkCloseReason };

/**
 * A `DeviceSink` that records what the session asked it to send, by kind and in one ordered log.
 * @example
 * const sink = new RecordingSink();
 * const session = await registry.open(deviceIdentity('d1'), sink);
 * session.enableC2d();
 * await flushPromises();
 * expect(sink.c2d.map((m) => m.messageId)).toEqual(['m1']);
 */
export class RecordingSink implements DeviceSink {
  readonly calls: SinkCall[] = [];
  readonly c2d: C2dDelivery[] = [];
  readonly desired: JsonObject[] = [];
  readonly methods: MethodRequest[] = [];
  readonly closes: SinkCloseReason[] = [];
  /** Runs after a close is recorded, e.g. to act like an adapter that drops its socket. */
  onClose: ((reason: SinkCloseReason) => void) | undefined;

  deliverC2d(message: C2dDelivery): void {
    this.calls.push({ kind: 'deliverC2d', message });
    this.c2d.push(message);
  }

  desiredPatch(patch: JsonObject): void {
    this.calls.push({ kind: 'desiredPatch', patch });
    this.desired.push(patch);
  }

  invokeMethod(request: MethodRequest): void {
    this.calls.push({ kind: 'invokeMethod', request });
    this.methods.push(request);
  }

  close(reason: SinkCloseReason): void {
    this.calls.push({ kind: 'close', reason });
    this.closes.push(reason);
    this.onClose?.(reason);
  }

  /** The most recent method request; throws when there is none. */
  get lastMethod(): MethodRequest {
    const request = this.methods.at(-1);
    if (!request) throw new Error('the sink received no method request');
    return request;
  }
}

export type TelemetryAppend = Parameters<TelemetrySink['append']>[0];

interface HeldAppend {
  input: TelemetryAppend;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * An in-memory event stream. `appended` lists every append call; `committed` only those that
 * resolved. `hold()` keeps later appends pending until `release()`; `failWith()` rejects them.
 */
export class MemoryTelemetrySink implements TelemetrySink {
  readonly appended: TelemetryAppend[] = [];
  readonly committed: TelemetryAppend[] = [];
  #isHeld = false;
  #held: HeldAppend[] = [];
  #failure: unknown;

  append(input: TelemetryAppend): Promise<unknown> {
    this.appended.push(input);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (!this.#isHeld) {
      this.committed.push(input);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#held.push({
        input,
        resolve: () => {
          this.committed.push(input);
          resolve();
        },
        reject,
      });
    });
  }

  /** Later appends stay pending until `release()` or `rejectHeld()`. */
  hold(): void {
    this.#isHeld = true;
  }

  /** Commits every held append and stops holding. */
  release(): void {
    this.#isHeld = false;
    const held = this.#held;
    this.#held = [];
    for (const append of held) append.resolve();
  }

  /** Fails every held append with `error` and stops holding. */
  rejectHeld(error: unknown): void {
    this.#isHeld = false;
    const held = this.#held;
    this.#held = [];
    for (const append of held) append.reject(error);
  }

  /** Later appends reject with `error`; `undefined` makes them succeed again. */
  failWith(error: unknown): void {
    this.#failure = error;
  }

  get heldCount(): number {
    return this.#held.length;
  }
}

const twinKey = (deviceId: string, moduleId: string | null) => (moduleId === null ? deviceId : `${deviceId}/${moduleId}`);

/** Twins held in memory: reads return what `setTwin` stored; reported patches are recorded and bump `$version`. */
export class FakeTwins implements DeviceTwins {
  readonly reads: { deviceId: string; moduleId: string | null }[] = [];
  readonly reportedPatches: { deviceId: string; moduleId: string | null; patch: JsonObject }[] = [];
  readonly #twins = new Map<string, JsonObject>();
  readonly #reportedVersions = new Map<string, number>();
  #failure: unknown;

  setTwin(deviceId: string, moduleId: string | null, twin: JsonObject): void {
    this.#twins.set(twinKey(deviceId, moduleId), twin);
  }

  /** Later calls reject with `error`; `undefined` makes them succeed again. */
  failWith(error: unknown): void {
    this.#failure = error;
  }

  async getDeviceTwin(deviceId: string, moduleId: string | null): Promise<JsonObject> {
    this.reads.push({ deviceId, moduleId });
    if (this.#failure !== undefined) throw this.#failure;
    return this.#twins.get(twinKey(deviceId, moduleId)) ?? { desired: { $version: 1 }, reported: { $version: 1 } };
  }

  async patchReported(deviceId: string, moduleId: string | null, patch: JsonObject): Promise<number> {
    this.reportedPatches.push({ deviceId, moduleId, patch });
    if (this.#failure !== undefined) throw this.#failure;
    const key = twinKey(deviceId, moduleId);
    const version = (this.#reportedVersions.get(key) ?? 1) + 1;
    this.#reportedVersions.set(key, version);
    return version;
  }
}

export interface C2dSettlement {
  deviceId: string;
  lockToken: string;
  outcome: C2dOutcome;
}

interface QueuedC2d {
  messageId: string;
  deliveryCount: number;
  body: Uint8Array;
  systemProperties: C2dDelivery['systemProperties'];
  applicationProperties: Record<string, string>;
}

/**
 * A per-device C2D queue. `receiveMany` locks up to `max` from the head, each under a fresh `lock-N` token; `settle` records
 * every call, removes the message on complete/reject and puts it back at the head on abandon
 * (redelivered under a new token with deliveryCount + 1). Settling a token that is not locked
 * fails with DeviceMessageLockLost, like the real queue.
 */
export class FakeC2dMessages implements DeviceMessages {
  readonly receives: string[] = [];
  readonly settlements: C2dSettlement[] = [];
  readonly #queues = new Map<string, QueuedC2d[]>();
  readonly #locked = new Map<string, { deviceId: string; message: QueuedC2d }>();
  #nextLock = 1;
  #nextMessage = 1;
  #settleFailure: unknown;
  readonly #receiveGate = new Gate();

  /** Queues a message for `deviceId`; returns its messageId (`m1`, `m2`, … unless given). */
  enqueue(deviceId: string, message: Partial<Omit<QueuedC2d, 'deliveryCount'>> = {}): string {
    const queued: QueuedC2d = {
      messageId: message.messageId ?? `m${this.#nextMessage++}`,
      deliveryCount: 0,
      body: message.body ?? new TextEncoder().encode('hello'),
      systemProperties: message.systemProperties ?? {},
      applicationProperties: message.applicationProperties ?? {},
    };
    this.#queue(deviceId).push(queued);
    return queued.messageId;
  }

  /** Messages waiting (not locked) for `deviceId`. */
  queuedCount(deviceId: string): number {
    return this.#queue(deviceId).length;
  }

  /** Messages locked (delivered, unsettled) across all devices. */
  get lockedCount(): number {
    return this.#locked.size;
  }

  /** Settlements recorded for `lockToken`. */
  settlementsOf(lockToken: string): C2dSettlement[] {
    return this.settlements.filter((s) => s.lockToken === lockToken);
  }

  /** Later settles reject with `error` (after being recorded); `undefined` makes them succeed again. */
  failSettlesWith(error: unknown): void {
    this.#settleFailure = error;
  }

  /**
   * Later receives take their answer (the head of the queue, or nothing) at once but return it
   * only on `releaseReceives()`, like a store query whose reply is still on its way.
   */
  holdReceives(): void {
    this.#receiveGate.close();
  }

  releaseReceives(): void {
    this.#receiveGate.open();
  }

  get heldReceiveCount(): number {
    return this.#receiveGate.waitingCount;
  }

  async receiveMany(deviceId: string, max: number): Promise<C2dDelivery[]> {
    this.receives.push(deviceId);
    const deliveries: C2dDelivery[] = [];
    while (deliveries.length < max) {
      const delivery = this.#lockNext(deviceId);
      if (!delivery) break;
      deliveries.push(delivery);
    }
    await this.#receiveGate.pass();
    return deliveries;
  }

  async settle(deviceId: string, lockToken: string, outcome: C2dOutcome): Promise<void> {
    this.settlements.push({ deviceId, lockToken, outcome });
    if (this.#settleFailure !== undefined) throw this.#settleFailure;
    const locked = this.#locked.get(lockToken);
    if (!locked || locked.deviceId !== deviceId) {
      throw new HubError('DeviceMessageLockLost', `Lock token '${lockToken}' is not held`);
    }
    this.#locked.delete(lockToken);
    if (outcome === 'abandon') this.#queue(deviceId).unshift(locked.message);
  }

  #lockNext(deviceId: string): C2dDelivery | undefined {
    const message = this.#queue(deviceId).shift();
    if (!message) return undefined;
    message.deliveryCount += 1;
    const lockToken = `lock-${this.#nextLock++}`;
    this.#locked.set(lockToken, { deviceId, message });
    return {
      lockToken,
      messageId: message.messageId,
      deliveryCount: message.deliveryCount,
      body: message.body,
      systemProperties: message.systemProperties,
      applicationProperties: message.applicationProperties,
    };
  }

  #queue(deviceId: string): QueuedC2d[] {
    let queue = this.#queues.get(deviceId);
    if (!queue) {
      queue = [];
      this.#queues.set(deviceId, queue);
    }
    return queue;
  }
}

/** Records every Connected/Disconnected change; `failWith` makes later records reject. */
export class ConnectionStateRecorder implements ConnectionStates {
  readonly changes: ConnectionStateChange[] = [];
  #failure: unknown;

  failWith(error: unknown): void {
    this.#failure = error;
  }

  async record(
    deviceId: string,
    moduleId: string | null,
    change: { isConnected: boolean; atMs: number; lastActivityTime: number | null },
  ): Promise<void> {
    this.changes.push({ deviceId, moduleId, ...change });
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Changes recorded for one identity, oldest first. */
  of(deviceId: string, moduleId: string | null = null): ConnectionStateChange[] {
    return this.changes.filter((c) => c.deviceId === deviceId && c.moduleId === moduleId);
  }
}

export interface FakeSessionServices {
  services: SessionServices;
  telemetry: MemoryTelemetrySink;
  twins: FakeTwins;
  messages: FakeC2dMessages;
  connections: ConnectionStateRecorder;
}

/** Fresh fakes for every service a session uses, plus the `SessionServices` bundle to pass in. */
export function createFakeSessionServices(): FakeSessionServices {
  const telemetry = new MemoryTelemetrySink();
  const twins = new FakeTwins();
  const messages = new FakeC2dMessages();
  const connections = new ConnectionStateRecorder();
  return { services: { telemetry, twins, messages, connections }, telemetry, twins, messages, connections };
}

const SAS_DEVICE: AuthMethod = { scope: 'device', type: 'sas', issuer: 'iothub' };

/** An authenticated device identity (SAS, no token expiry unless given). */
export function deviceIdentity(deviceId: string, overrides: Partial<AuthenticatedDevice> = {}): AuthenticatedDevice {
  return { deviceId, moduleId: null, generationId: `gen-${deviceId}`, authMethod: SAS_DEVICE, ...overrides };
}

/** An authenticated module identity (module-scoped SAS, no token expiry unless given). */
export function moduleIdentity(
  deviceId: string,
  moduleId: string,
  overrides: Partial<AuthenticatedDevice> = {},
): AuthenticatedDevice {
  return {
    deviceId,
    moduleId,
    generationId: `gen-${deviceId}-${moduleId}`,
    authMethod: { scope: 'module', type: 'sas', issuer: 'iothub' },
    ...overrides,
  };
}

/** Lets every already-queued promise job run (not a timer: fake-clock timers need `advance`). */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves to `'pending'` when `promise` has not settled once queued jobs have run. */
export async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  await flushPromises();
  return state;
}

