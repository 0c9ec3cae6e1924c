import { describe, expect, test } from 'bun:test';
import { serverError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { Gate } from '../testing/gate.ts';
import {
  createFakeSessionServices,
  deviceIdentity,
  flushPromises,
  moduleIdentity,
  RecordingSink,
  stateOf,
} from '../testing/recording-sink.ts';
import type { DeviceSessionOptions } from './device-session.ts';
import { type ConnectionEvent, SessionRegistry } from './session-registry.ts';

const X509_DEVICE = { scope: 'device', type: 'x509Certificate', issuer: 'iothub' } as const;

function setup(options?: Partial<DeviceSessionOptions>) {
  const clock = new FakeClock();
  const fakes = createFakeSessionServices();
  const registry = new SessionRegistry({
    services: fakes.services,
    clock,
    logger: silentLogger,
    ...(options ? { options } : {}),
  });
  const events: ConnectionEvent[] = [];
  registry.onConnection((event) => events.push(event));
  return { clock, registry, events, ...fakes };
}

describe('connection state', () => {
  test('open records Connected at the clock time with lastActivityTime, and the session can be found', async () => {
    const { registry, connections, clock } = setup();
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    expect(connections.changes).toEqual([
      { deviceId: 'd1', moduleId: null, isConnected: true, atMs: clock.now(), lastActivityTime: clock.now() },
    ]);
    expect(registry.get('d1')).toBe(session);
    expect(registry.connectedCount).toBe(1);
  });

  test("close records Disconnected at the clock time with the session's last activity, and forgets the session", async () => {
    const { registry, connections, clock } = setup();
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    clock.advance(5_000);
    await session.sendTelemetry({ body: new Uint8Array(1), systemProperties: {}, applicationProperties: {} });
    const lastActivity = clock.now();
    clock.advance(60_000);
    await session.close();
    await flushPromises();
    expect(connections.changes.at(-1)).toEqual({
      deviceId: 'd1',
      moduleId: null,
      isConnected: false,
      atMs: lastActivity + 60_000,
      lastActivityTime: lastActivity,
    });
    expect(registry.get('d1')).toBeUndefined();
    expect(registry.connectedCount).toBe(0);
  });

  test('a failing connection-state record does not fail open, and listeners still hear of the connection', async () => {
    const { registry, connections, events } = setup();
    connections.failWith(serverError());
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    await flushPromises();
    expect(session.isClosed).toBe(false);
    expect(events.map((e) => e.isConnected)).toEqual([true]);
  });

  test('open does not wait for Connected to be written, and listeners hear of the connection once it is', async () => {
    const fakes = createFakeSessionServices();
    const written = new Gate();
    written.close();
    const connections = {
      record: async (...change: Parameters<typeof fakes.connections.record>) => {
        await written.pass();
        await fakes.connections.record(...change);
      },
    };
    const registry = new SessionRegistry({ services: { ...fakes.services, connections }, clock: new FakeClock(), logger: silentLogger });
    const events: ConnectionEvent[] = [];
    registry.onConnection((event) => events.push(event));
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    expect(registry.get('d1')).toBe(session);
    await flushPromises();
    expect(events).toEqual([]);
    written.open();
    await flushPromises();
    expect(fakes.connections.changes.map((c) => c.isConnected)).toEqual([true]);
    expect(events.map((e) => e.isConnected)).toEqual([true]);
  });

  test('onConnection listeners see connect and disconnect with identity and time, until they unsubscribe', async () => {
    const { registry, clock } = setup();
    const seen: ConnectionEvent[] = [];
    const unsubscribe = registry.onConnection((event) => seen.push(event));
    const session = await registry.open(moduleIdentity('d1', 'm1'), new RecordingSink());
    const connectedAt = clock.now();
    clock.advance(1_000);
    await session.close();
    await flushPromises();
    expect(seen).toEqual([
      { deviceId: 'd1', moduleId: 'm1', isConnected: true, atMs: connectedAt },
      { deviceId: 'd1', moduleId: 'm1', isConnected: false, atMs: connectedAt + 1_000 },
    ]);
    unsubscribe();
    await registry.open(deviceIdentity('d2'), new RecordingSink());
    expect(seen).toHaveLength(2);
  });
});

describe('takeover', () => {
  test('a second open of the same identity terminates the first with ConnectionForcefullyClosedOnNewConnection', async () => {
    const { registry } = setup();
    const firstSink = new RecordingSink();
    const first = await registry.open(deviceIdentity('d1'), firstSink);
    const secondSink = new RecordingSink();
    const second = await registry.open(deviceIdentity('d1'), secondSink);
    expect(firstSink.closes.map((r) => r.code)).toEqual(['ConnectionForcefullyClosedOnNewConnection']);
    expect(first.isClosed).toBe(true);
    expect(secondSink.closes).toEqual([]);
    expect(second.isClosed).toBe(false);
    expect(registry.get('d1')).toBe(second);
  });

  test("GIVEN a taken-over session WHEN its adapter closes it THEN no Disconnected is recorded and the new session stays", async () => {
    const { registry, connections, events } = setup();
    const firstSink = new RecordingSink();
    const first = await registry.open(deviceIdentity('d1'), firstSink);
    firstSink.onClose = () => void first.close();
    const second = await registry.open(deviceIdentity('d1'), new RecordingSink());
    await first.close();
    await flushPromises();
    expect(connections.changes.map((c) => c.isConnected)).toEqual([true, true]);
    expect(events.map((e) => e.isConnected)).toEqual([true, true]);
    expect(registry.get('d1')).toBe(second);
    expect(registry.connectedCount).toBe(1);
  });

  test("a takeover fails the old session's pending method calls and abandons its unsettled C2D to the new one", async () => {
    const { registry, messages } = setup();
    const firstSink = new RecordingSink();
    const first = await registry.open(deviceIdentity('d1'), firstSink);
    first.enableMethods();
    const call = first.invokeMethod('reboot', null, 30_000);
    messages.enqueue('d1');
    first.enableC2d();
    await flushPromises();
    expect(firstSink.c2d).toHaveLength(1);

    const secondSink = new RecordingSink();
    const second = await registry.open(deviceIdentity('d1'), secondSink);
    let code: unknown;
    await call.catch((error: { code: unknown }) => (code = error.code));
    expect(code).toBe('DeviceConnectionClosedRemotely');
    expect(messages.settlementsOf(firstSink.c2d[0]!.lockToken).map((s) => s.outcome)).toEqual(['abandon']);

    second.enableC2d();
    await flushPromises();
    expect(secondSink.c2d).toMatchObject([{ messageId: 'm1', deliveryCount: 2 }]);
  });

  test('a device and its module are distinct identities: opening one never takes over the other', async () => {
    const { registry } = setup();
    const deviceSink = new RecordingSink();
    const device = await registry.open(deviceIdentity('d1'), deviceSink);
    const moduleSink = new RecordingSink();
    const module = await registry.open(moduleIdentity('d1', 'm1'), moduleSink);
    const otherDeviceModule = await registry.open(moduleIdentity('d2', 'm1'), new RecordingSink());
    expect(deviceSink.closes).toEqual([]);
    expect(moduleSink.closes).toEqual([]);
    expect(registry.get('d1')).toBe(device);
    expect(registry.get('d1', 'm1')).toBe(module);
    expect(registry.get('d2', 'm1')).toBe(otherDeviceModule);
    expect(registry.get('d2')).toBeUndefined();
    expect(registry.connectedCount).toBe(3);
  });

  test('closing a module session leaves its device session connected', async () => {
    const { registry, connections } = setup();
    const device = await registry.open(deviceIdentity('d1'), new RecordingSink());
    const module = await registry.open(moduleIdentity('d1', 'm1'), new RecordingSink());
    await module.close();
    await flushPromises();
    expect(registry.get('d1')).toBe(device);
    expect(connections.of('d1', 'm1').map((c) => c.isConnected)).toEqual([true, false]);
    expect(connections.of('d1').map((c) => c.isConnected)).toEqual([true]);
  });
});

describe('SAS token expiry', () => {
  test('a SAS session is terminated with IotHubUnauthorized when its token expires, and recorded Disconnected', async () => {
    const { registry, clock, connections } = setup();
    const sink = new RecordingSink();
    const session = await registry.open(deviceIdentity('d1', { tokenExpiresAtMs: clock.now() + 3_600_000 }), sink);
    clock.advance(3_599_999);
    expect(session.isClosed).toBe(false);
    expect(sink.closes).toEqual([]);
    clock.advance(1);
    await flushPromises();
    expect(sink.closes.map((r) => r.code)).toEqual(['IotHubUnauthorized']);
    expect(session.isClosed).toBe(true);
    expect(connections.changes.at(-1)).toMatchObject({ deviceId: 'd1', isConnected: false, atMs: clock.now() });
    expect(registry.get('d1')).toBeUndefined();
  });

  test('a session closed before its token expires cancels the expiry timer', async () => {
    const { registry, clock } = setup();
    const sink = new RecordingSink();
    const session = await registry.open(deviceIdentity('d1', { tokenExpiresAtMs: clock.now() + 60_000 }), sink);
    expect(clock.pendingCount).toBe(1);
    await session.close();
    expect(clock.pendingCount).toBe(0);
    clock.advance(60_000);
    expect(sink.closes).toEqual([]);
  });

  test("a takeover cancels the old session's expiry timer, so it cannot end the new session", async () => {
    const { registry, clock } = setup();
    await registry.open(deviceIdentity('d1', { tokenExpiresAtMs: clock.now() + 60_000 }), new RecordingSink());
    const secondSink = new RecordingSink();
    const second = await registry.open(deviceIdentity('d1', { authMethod: X509_DEVICE }), secondSink);
    expect(clock.pendingCount).toBe(0);
    clock.advance(60_000);
    await flushPromises();
    expect(second.isClosed).toBe(false);
    expect(secondSink.closes).toEqual([]);
  });

  test('an X.509 session (no token expiry) schedules no expiry timer', async () => {
    const { registry, clock } = setup();
    await registry.open(deviceIdentity('d1', { authMethod: X509_DEVICE }), new RecordingSink());
    expect(clock.pendingCount).toBe(0);
  });
});

describe('routing hub events', () => {
  test('desiredPatched reaches only the session of that identity', async () => {
    const { registry } = setup();
    const deviceSink = new RecordingSink();
    const moduleSink = new RecordingSink();
    const device = await registry.open(deviceIdentity('d1'), deviceSink);
    const module = await registry.open(moduleIdentity('d1', 'm1'), moduleSink);
    device.enableDesired();
    module.enableDesired();
    registry.desiredPatched({ deviceId: 'd1', moduleId: 'm1' }, { fan: 'on', $version: 4 });
    registry.desiredPatched({ deviceId: 'd1', moduleId: null }, { led: 'red', $version: 7 });
    expect(moduleSink.desired).toEqual([{ fan: 'on', $version: 4 }]);
    expect(deviceSink.desired).toEqual([{ led: 'red', $version: 7 }]);
  });

  test('desiredPatched and c2dQueued for an identity that is not connected do nothing', () => {
    const { registry, messages } = setup();
    expect(() => registry.desiredPatched({ deviceId: 'nobody', moduleId: null }, { $version: 2 })).not.toThrow();
    expect(() => registry.c2dQueued('nobody')).not.toThrow();
    expect(messages.receives).toEqual([]);
  });

  test("c2dQueued delivers to the device's session", async () => {
    const { registry, messages } = setup();
    const sink = new RecordingSink();
    const otherSink = new RecordingSink();
    const session = await registry.open(deviceIdentity('d1'), sink);
    const other = await registry.open(deviceIdentity('d2'), otherSink);
    session.enableC2d();
    other.enableC2d();
    await flushPromises();
    messages.enqueue('d1');
    registry.c2dQueued('d1');
    await flushPromises();
    expect(sink.c2d.map((m) => m.messageId)).toEqual(['m1']);
    expect(otherSink.c2d).toEqual([]);
  });

  test('sessions opened through the registry use its session options', async () => {
    const { registry, messages } = setup({ maxC2dInFlight: 1 });
    const sink = new RecordingSink();
    const session = await registry.open(deviceIdentity('d1'), sink);
    messages.enqueue('d1');
    messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    expect(sink.c2d).toHaveLength(1);
  });
});

describe('waiting for methods', () => {
  test('waitForMethods resolves at once with a session that listens for methods, scheduling nothing', async () => {
    const { registry, clock } = setup();
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    session.enableMethods();
    const waited = registry.waitForMethods({ deviceId: 'd1', moduleId: null }, 10_000);
    expect(clock.pendingCount).toBe(0);
    expect(await waited).toBe(session);
  });

  test('waitForMethods with no wait time resolves undefined at once for a session not listening for methods', async () => {
    const { registry, clock } = setup();
    await registry.open(deviceIdentity('d1'), new RecordingSink());
    expect(await registry.waitForMethods({ deviceId: 'd1', moduleId: null }, 0)).toBeUndefined();
    expect(clock.pendingCount).toBe(0);
  });

  test('waitForMethods resolves with the session once it enables methods within the timeout, and cancels the timer', async () => {
    const { registry, clock } = setup();
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    const waited = registry.waitForMethods({ deviceId: 'd1', moduleId: null }, 10_000);
    clock.advance(9_999);
    expect(await stateOf(waited)).toBe('pending');
    session.enableMethods();
    expect(await waited).toBe(session);
    expect(clock.pendingCount).toBe(0);
  });

  test('waitForMethods resolves when the identity connects and enables methods within the timeout', async () => {
    const { registry, clock } = setup();
    const first = registry.waitForMethods({ deviceId: 'd1', moduleId: null }, 10_000);
    const second = registry.waitForMethods({ deviceId: 'd1', moduleId: null }, 20_000);
    clock.advance(5_000);
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    session.enableMethods();
    expect(await first).toBe(session);
    expect(await second).toBe(session);
  });

  test('waitForMethods resolves undefined when no session enables methods within the timeout', async () => {
    const { registry, clock } = setup();
    await registry.open(deviceIdentity('d1'), new RecordingSink());
    const waited = registry.waitForMethods({ deviceId: 'd1', moduleId: null }, 10_000);
    clock.advance(9_999);
    expect(await stateOf(waited)).toBe('pending');
    clock.advance(1);
    expect(await waited).toBeUndefined();
  });

  test('another identity enabling methods does not end the wait', async () => {
    const { registry } = setup();
    const module = await registry.open(moduleIdentity('d1', 'm1'), new RecordingSink());
    const device = await registry.open(deviceIdentity('d1'), new RecordingSink());
    const waited = registry.waitForMethods({ deviceId: 'd1', moduleId: null }, 10_000);
    module.enableMethods();
    expect(await stateOf(waited)).toBe('pending');
    device.enableMethods();
    expect(await waited).toBe(device);
  });
});

describe('shutdown', () => {
  test('closeAll terminates every session with ServerError and records each Disconnected', async () => {
    const { registry, connections } = setup();
    const sinks = [new RecordingSink(), new RecordingSink(), new RecordingSink()];
    const sessions = [
      await registry.open(deviceIdentity('d1'), sinks[0]!),
      await registry.open(moduleIdentity('d1', 'm1'), sinks[1]!),
      await registry.open(deviceIdentity('d2'), sinks[2]!),
    ];
    await registry.closeAll();
    await flushPromises();
    for (const sink of sinks) expect(sink.closes.map((r) => r.code)).toEqual(['ServerError']);
    for (const session of sessions) expect(session.isClosed).toBe(true);
    expect(registry.connectedCount).toBe(0);
    expect(connections.changes.filter((c) => !c.isConnected)).toHaveLength(3);
  });
});

describe('activity bookkeeping', () => {
  test('flushActivity records the lastActivityTime of active sessions once, keeping their connection time', async () => {
    const { registry, clock, connections } = setup();
    const session = await registry.open(deviceIdentity('d1'), new RecordingSink());
    const connectedAt = clock.now();
    await registry.open(deviceIdentity('idle'), new RecordingSink());
    clock.advance(5_000);
    await session.getTwin();
    const before = connections.changes.length;

    await registry.flushActivity();
    const flushed = connections.changes.slice(before);
    expect(flushed).toEqual([
      { deviceId: 'd1', moduleId: null, isConnected: true, atMs: connectedAt, lastActivityTime: connectedAt + 5_000 },
    ]);

    await registry.flushActivity();
    expect(connections.changes.length).toBe(before + 1);
  });
});

describe('token renewal', () => {
  test('renewToken moves the expiry: the session outlives its first token and ends with the renewed one', async () => {
    const { registry, clock } = setup();
    const sink = new RecordingSink();
    const session = await registry.open({ ...deviceIdentity('d1'), tokenExpiresAtMs: clock.now() + 1_000 }, sink);
    registry.renewToken(session, clock.now() + 5_000);
    clock.advance(2_000);
    expect(session.isClosed).toBe(false);
    clock.advance(3_000);
    expect(session.isClosed).toBe(true);
    expect(sink.closes[0]?.code).toBe('IotHubUnauthorized');
  });
});

describe('transient sessions', () => {
  test('a transient session sends telemetry without taking over the live connection or recording a connection', async () => {
    const { registry, connections, telemetry } = setup();
    const liveSink = new RecordingSink();
    const live = await registry.open(deviceIdentity('d1'), liveSink);
    const recordsBefore = connections.changes.length;
    const transient = registry.transient(deviceIdentity('d1'));
    await transient.sendTelemetry({ body: new Uint8Array([1]), systemProperties: {}, applicationProperties: {} });
    expect(telemetry.committed.length).toBe(1);
    expect(registry.get('d1')).toBe(live);
    expect(liveSink.closes).toEqual([]);
    expect(connections.changes.length).toBe(recordsBefore);
  });
});
