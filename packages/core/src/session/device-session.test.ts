import { describe, expect, test } from 'bun:test';
import { HubError, type HubErrorName, serverError } from '../errors.ts';
import type { JsonValue } from '../identity/types.ts';
import { silentLogger } from '../log.ts';
import { MAX_TELEMETRY_BYTES, type TelemetryMessage } from '../telemetry/message.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { expectHubError } from '../testing/hub-error-assertions.ts';
import {
  createFakeSessionServices,
  deviceIdentity,
  flushPromises,
  moduleIdentity,
  RecordingSink,
  stateOf,
} from '../testing/recording-sink.ts';
import type { AuthenticatedDevice } from './device-identity.ts';
import { DeviceSession, type DeviceSessionOptions } from './device-session.ts';

function setup(options: { identity?: AuthenticatedDevice; sessionOptions?: Partial<DeviceSessionOptions> } = {}) {
  const clock = new FakeClock();
  const fakes = createFakeSessionServices();
  const sink = new RecordingSink();
  const closedHooks: DeviceSession[] = [];
  const methodsEnabledHooks: DeviceSession[] = [];
  const identity = options.identity ?? deviceIdentity('d1');
  const session = new DeviceSession({
    identity,
    sink,
    services: fakes.services,
    clock,
    logger: silentLogger,
    hooks: { closed: (s) => closedHooks.push(s), methodsEnabled: (s) => methodsEnabledHooks.push(s) },
    ...(options.sessionOptions ? { options: options.sessionOptions } : {}),
  });
  return { clock, sink, session, identity, closedHooks, methodsEnabledHooks, ...fakes };
}

const encoder = new TextEncoder();

function message(body: Uint8Array | string = '{"t":21}', extra: Partial<TelemetryMessage> = {}): TelemetryMessage {
  return {
    body: typeof body === 'string' ? encoder.encode(body) : body,
    systemProperties: {},
    applicationProperties: {},
    ...extra,
  };
}

/** Awaits `run()` and returns the HubError it failed with; fails the test if it succeeds or throws anything else. */
async function hubErrorOf(run: () => unknown, code: HubErrorName): Promise<HubError> {
  let thrown: unknown;
  try {
    await run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HubError);
  expect((thrown as HubError).code).toBe(code);
  return thrown as HubError;
}

describe('telemetry', () => {
  test('sendTelemetry stays pending until the telemetry append commits, then resolves', async () => {
    const { session, telemetry } = setup();
    telemetry.hold();
    const sent = session.sendTelemetry(message());
    expect(await stateOf(sent)).toBe('pending');
    expect(telemetry.appended).toHaveLength(1);
    expect(telemetry.committed).toHaveLength(0);
    telemetry.release();
    expect(await stateOf(sent)).toBe('resolved');
    expect(telemetry.committed).toHaveLength(1);
  });

  test('sendTelemetry fails with the append error when the event stream does not commit', async () => {
    const { session, telemetry } = setup();
    const failure = serverError();
    telemetry.failWith(failure);
    let thrown: unknown;
    await session.sendTelemetry(message()).catch((error: unknown) => (thrown = error));
    expect(thrown).toBe(failure);
    expect(telemetry.committed).toHaveLength(0);
  });

  test('the appended message carries the identity, Telemetry source, properties, body, auth method JSON and generationId', async () => {
    const { session, telemetry } = setup({ identity: deviceIdentity('d1', { generationId: '638000000000000001' }) });
    const sent = message('{"t":21}', {
      systemProperties: { 'message-id': 'msg-1', 'content-type': 'application/json' },
      applicationProperties: { alert: 'high' },
    });
    await session.sendTelemetry(sent);
    expect(telemetry.committed).toEqual([
      {
        deviceId: 'd1',
        moduleId: null,
        messageSource: 'Telemetry',
        systemProperties: { 'message-id': 'msg-1', 'content-type': 'application/json' },
        applicationProperties: { alert: 'high' },
        body: encoder.encode('{"t":21}'),
        connection: {
          authMethod: '{"scope":"device","type":"sas","issuer":"iothub","acceptingIpFilterRule":null}',
          generationId: '638000000000000001',
        },
      },
    ]);
  });

  test("a module's message carries its moduleId and the module-scoped auth method", async () => {
    const identity = moduleIdentity('d1', 'm1', {
      generationId: 'g-m1',
      authMethod: { scope: 'module', type: 'x509Certificate', issuer: 'iothub' },
    });
    const { session, telemetry } = setup({ identity });
    await session.sendTelemetry(message());
    expect(telemetry.committed[0]).toMatchObject({
      deviceId: 'd1',
      moduleId: 'm1',
      connection: {
        authMethod: '{"scope":"module","type":"x509Certificate","issuer":"iothub","acceptingIpFilterRule":null}',
        generationId: 'g-m1',
      },
    });
  });

  test('a message of exactly 256 KB, body and application properties together, is accepted', async () => {
    const { session, telemetry } = setup();
    await session.sendTelemetry(message(new Uint8Array(MAX_TELEMETRY_BYTES - 2), { applicationProperties: { k: 'v' } }));
    expect(telemetry.committed).toHaveLength(1);
  });

  test('a message one byte over 256 KB counting application properties fails with MessageTooLarge and appends nothing', async () => {
    const { session, telemetry } = setup();
    await hubErrorOf(
      () => session.sendTelemetry(message(new Uint8Array(MAX_TELEMETRY_BYTES - 1), { applicationProperties: { k: 'v' } })),
      'MessageTooLarge',
    );
    expect(telemetry.appended).toHaveLength(0);
  });

  test('a body alone over 256 KB fails with MessageTooLarge and appends nothing', async () => {
    const { session, telemetry } = setup();
    await hubErrorOf(() => session.sendTelemetry(message(new Uint8Array(MAX_TELEMETRY_BYTES + 1))), 'MessageTooLarge');
    expect(telemetry.appended).toHaveLength(0);
  });

  test('system properties count toward the 256 KB limit', async () => {
    const { session, telemetry } = setup();
    const messageId = 'x'.repeat(100);
    await hubErrorOf(
      () => session.sendTelemetry(message(new Uint8Array(MAX_TELEMETRY_BYTES - 50), { systemProperties: { 'message-id': messageId } })),
      'MessageTooLarge',
    );
    expect(telemetry.appended).toHaveLength(0);
  });

  test('application property values count in UTF-8 bytes toward the 256 KB limit', async () => {
    const { session, telemetry } = setup();
    // 'k' + '€' is 2 UTF-16 units but 4 UTF-8 bytes: 1 byte over.
    await hubErrorOf(
      () => session.sendTelemetry(message(new Uint8Array(MAX_TELEMETRY_BYTES - 3), { applicationProperties: { k: '€' } })),
      'MessageTooLarge',
    );
    expect(telemetry.appended).toHaveLength(0);
  });

  test('system property values count in UTF-8 bytes toward the 256 KB limit', async () => {
    const { session, telemetry } = setup();
    // Ten '€' are 10 UTF-16 units but 30 UTF-8 bytes; with the name too they are 20 units but 40 bytes.
    // Over the limit in bytes whether or not property names count; at the limit only when counting UTF-16 units.
    const messageId = '€'.repeat(10);
    await hubErrorOf(
      () => session.sendTelemetry(message(new Uint8Array(MAX_TELEMETRY_BYTES - 20), { systemProperties: { 'message-id': messageId } })),
      'MessageTooLarge',
    );
    expect(telemetry.appended).toHaveLength(0);
  });

  test('a device identity sending to a module output fails with InvalidOperation and appends nothing', async () => {
    const { session, telemetry } = setup();
    await hubErrorOf(
      () => session.sendTelemetry(message('x', { systemProperties: { 'iothub-outputname': 'out1' } })),
      'InvalidOperation',
    );
    expect(telemetry.appended).toHaveLength(0);
  });

  test('a module may send to an output, and the output name reaches the event stream', async () => {
    const { session, telemetry } = setup({ identity: moduleIdentity('d1', 'm1') });
    await session.sendTelemetry(message('x', { systemProperties: { 'iothub-outputname': 'out1' } }));
    expect(telemetry.committed[0]?.systemProperties).toEqual({ 'iothub-outputname': 'out1' });
  });

  test('sending telemetry updates lastActivityTime to the clock time', async () => {
    const { session, clock } = setup();
    const connectedAt = clock.now();
    expect(session.connectedAtMs).toBe(connectedAt);
    expect(session.lastActivityTime).toBe(connectedAt);
    clock.advance(7_000);
    await session.sendTelemetry(message());
    expect(session.lastActivityTime).toBe(connectedAt + 7_000);
  });
});

describe('twins', () => {
  test("getTwin returns the twin service's twin for the session's identity", async () => {
    const { session, twins } = setup({ identity: moduleIdentity('d1', 'm1') });
    const twin = { desired: { $version: 3, fan: 'on' }, reported: { $version: 2 } };
    twins.setTwin('d1', 'm1', twin);
    twins.setTwin('d1', null, { desired: { $version: 9 }, reported: { $version: 9 } });
    expect(await session.getTwin()).toEqual(twin);
    expect(twins.reads).toEqual([{ deviceId: 'd1', moduleId: 'm1' }]);
  });

  test('patchReported passes the identity and patch to the twin service and resolves to the new reported $version', async () => {
    const { session, twins } = setup();
    expect(await session.patchReported({ temp: 21 })).toBe(2);
    expect(await session.patchReported({ temp: null })).toBe(3);
    expect(twins.reportedPatches).toEqual([
      { deviceId: 'd1', moduleId: null, patch: { temp: 21 } },
      { deviceId: 'd1', moduleId: null, patch: { temp: null } },
    ]);
  });

  test('a twin service failure reaches the caller unchanged', async () => {
    const { session, twins } = setup();
    twins.failWith(new HubError('PreconditionFailed', 'stale'));
    await hubErrorOf(() => session.patchReported({ a: 1 }), 'PreconditionFailed');
    await hubErrorOf(() => session.getTwin(), 'PreconditionFailed');
  });

  test('twin calls update lastActivityTime', async () => {
    const { session, clock } = setup();
    clock.advance(1_000);
    await session.getTwin();
    expect(session.lastActivityTime).toBe(clock.now());
    clock.advance(1_000);
    await session.patchReported({ a: 1 });
    expect(session.lastActivityTime).toBe(clock.now());
  });
});

describe('cloud-to-device messages', () => {
  test('enableC2d delivers queued messages up to the default in-flight window of 10 and no more', async () => {
    const { session, sink, messages } = setup();
    for (let i = 0; i < 12; i++) messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    expect(sink.c2d.map((m) => m.messageId)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10']);
    expect(messages.queuedCount('d1')).toBe(2);
  });

  test('each delivery carries a distinct lock token, deliveryCount 1 and the message content', async () => {
    const { session, sink, messages } = setup();
    messages.enqueue('d1', { body: encoder.encode('cmd'), applicationProperties: { op: 'reboot' } });
    messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    expect(sink.c2d[0]).toMatchObject({ messageId: 'm1', deliveryCount: 1, body: encoder.encode('cmd'), applicationProperties: { op: 'reboot' } });
    expect(new Set(sink.c2d.map((m) => m.lockToken)).size).toBe(2);
  });

  test('settling a delivered message frees a slot and the next queued message is delivered', async () => {
    const { session, sink, messages } = setup();
    for (let i = 0; i < 12; i++) messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    await session.settleC2d(sink.c2d[0]!.lockToken, 'complete');
    await flushPromises();
    expect(sink.c2d.map((m) => m.messageId).slice(9)).toEqual(['m10', 'm11']);
    expect(messages.settlements).toEqual([{ deviceId: 'd1', lockToken: sink.c2d[0]!.lockToken, outcome: 'complete' }]);
    expect(messages.queuedCount('d1')).toBe(1);
  });

  test('the in-flight window follows options.maxC2dInFlight', async () => {
    const { session, sink, messages } = setup({ sessionOptions: { maxC2dInFlight: 2 } });
    for (let i = 0; i < 3; i++) messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    expect(sink.c2d).toHaveLength(2);
  });

  test('reject and abandon reach the queue; an abandoned message is redelivered under a new lock token with deliveryCount 2', async () => {
    const { session, sink, messages } = setup();
    messages.enqueue('d1');
    messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    const [first, second] = sink.c2d;
    await session.settleC2d(first!.lockToken, 'reject');
    await session.settleC2d(second!.lockToken, 'abandon');
    await flushPromises();
    expect(messages.settlements.map((s) => s.outcome)).toEqual(['reject', 'abandon']);
    expect(sink.c2d).toHaveLength(3);
    expect(sink.c2d[2]).toMatchObject({ messageId: second!.messageId, deliveryCount: 2 });
    expect(sink.c2d[2]!.lockToken).not.toBe(second!.lockToken);
  });

  test('settling a lock token the queue does not hold fails with its DeviceMessageLockLost', async () => {
    const { session } = setup();
    session.enableC2d();
    await hubErrorOf(() => session.settleC2d('lock-unknown', 'complete'), 'DeviceMessageLockLost');
  });

  test('messages queued before enableC2d stay queued, and notifyC2dQueued does nothing while C2D is not enabled', async () => {
    const { session, sink, messages } = setup();
    messages.enqueue('d1');
    session.notifyC2dQueued();
    await flushPromises();
    expect(sink.c2d).toHaveLength(0);
    expect(messages.receives).toHaveLength(0);
    expect(messages.queuedCount('d1')).toBe(1);
  });

  test('notifyC2dQueued delivers a newly queued message when C2D is enabled', async () => {
    const { session, sink, messages } = setup();
    session.enableC2d();
    await flushPromises();
    expect(sink.c2d).toHaveLength(0);
    messages.enqueue('d1');
    session.notifyC2dQueued();
    await flushPromises();
    expect(sink.c2d.map((m) => m.messageId)).toEqual(['m1']);
  });

  test('notifyC2dQueued with a full in-flight window delivers nothing more', async () => {
    const { session, sink, messages } = setup({ sessionOptions: { maxC2dInFlight: 1 } });
    messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    messages.enqueue('d1');
    session.notifyC2dQueued();
    await flushPromises();
    expect(sink.c2d).toHaveLength(1);
    expect(messages.queuedCount('d1')).toBe(1);
  });

  test('a notification that arrives while a delivery is in progress is not lost', async () => {
    const { session, sink, messages } = setup();
    messages.holdReceives();
    session.enableC2d();
    await flushPromises();
    expect(messages.heldReceiveCount).toBe(1);
    messages.enqueue('d1');
    session.notifyC2dQueued();
    messages.releaseReceives();
    await flushPromises();
    expect(sink.c2d.map((m) => m.messageId)).toEqual(['m1']);
  });

  test('after disableC2d newly queued messages are not delivered', async () => {
    const { session, sink, messages } = setup();
    session.enableC2d();
    session.disableC2d();
    messages.enqueue('d1');
    session.notifyC2dQueued();
    await flushPromises();
    expect(sink.c2d).toHaveLength(0);
  });

  test('a module cannot enableC2d: InvalidOperation, and nothing is received', async () => {
    const { session, messages } = setup({ identity: moduleIdentity('d1', 'm1') });
    messages.enqueue('d1');
    expectHubError(() => session.enableC2d(), 'InvalidOperation');
    await flushPromises();
    expect(messages.receives).toHaveLength(0);
  });

  test('close abandons every unsettled message exactly once and leaves settled ones alone', async () => {
    const { session, sink, messages } = setup();
    for (let i = 0; i < 3; i++) messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    const [settled, ...unsettled] = sink.c2d.map((m) => m.lockToken);
    await session.settleC2d(settled!, 'complete');
    await session.close();
    await session.close();
    expect(messages.settlementsOf(settled!)).toEqual([{ deviceId: 'd1', lockToken: settled!, outcome: 'complete' }]);
    for (const lockToken of unsettled) {
      expect(messages.settlementsOf(lockToken)).toEqual([{ deviceId: 'd1', lockToken, outcome: 'abandon' }]);
    }
    expect(messages.queuedCount('d1')).toBe(2);
    expect(messages.lockedCount).toBe(0);
  });

  test('a message received while the session closes is abandoned once and never delivered', async () => {
    const { session, sink, messages } = setup();
    messages.enqueue('d1');
    messages.holdReceives();
    session.enableC2d();
    await flushPromises();
    await session.close();
    messages.releaseReceives();
    await flushPromises();
    expect(sink.c2d).toHaveLength(0);
    expect(messages.settlements).toEqual([{ deviceId: 'd1', lockToken: 'lock-1', outcome: 'abandon' }]);
    expect(messages.queuedCount('d1')).toBe(1);
  });

  test('close still completes and tells the hooks when abandoning fails', async () => {
    const { session, sink, messages, closedHooks } = setup();
    messages.enqueue('d1');
    session.enableC2d();
    await flushPromises();
    expect(sink.c2d).toHaveLength(1);
    messages.failSettlesWith(new HubError('DeviceMessageLockLost', 'expired'));
    await session.close();
    expect(closedHooks).toEqual([session]);
  });

  test('after close, notifyC2dQueued receives nothing', async () => {
    const { session, messages } = setup();
    session.enableC2d();
    await flushPromises();
    const receivesBefore = messages.receives.length;
    await session.close();
    messages.enqueue('d1');
    session.notifyC2dQueued();
    await flushPromises();
    expect(messages.receives).toHaveLength(receivesBefore);
    expect(messages.queuedCount('d1')).toBe(1);
  });
});

describe('desired properties', () => {
  test('a desired patch is delivered only after enableDesired', () => {
    const { session, sink } = setup();
    session.deliverDesired({ fan: 'on', $version: 2 });
    expect(sink.desired).toEqual([]);
    session.enableDesired();
    session.deliverDesired({ fan: 'off', $version: 3 });
    expect(sink.desired).toEqual([{ fan: 'off', $version: 3 }]);
  });

  test('a desired patch is not delivered after disableDesired', () => {
    const { session, sink } = setup();
    session.enableDesired();
    session.disableDesired();
    session.deliverDesired({ fan: 'on', $version: 2 });
    expect(sink.desired).toEqual([]);
  });

  test('a desired patch is not delivered after close', async () => {
    const { session, sink } = setup();
    session.enableDesired();
    await session.close();
    session.deliverDesired({ fan: 'on', $version: 2 });
    expect(sink.desired).toEqual([]);
  });
});

describe('direct methods', () => {
  test('enableMethods marks the session as listening and tells the hooks; disableMethods stops listening', () => {
    const { session, methodsEnabledHooks } = setup();
    expect(session.isMethodsEnabled).toBe(false);
    session.enableMethods();
    expect(session.isMethodsEnabled).toBe(true);
    expect(methodsEnabledHooks).toEqual([session]);
    session.disableMethods();
    expect(session.isMethodsEnabled).toBe(false);
  });

  test('invokeMethod sends the request through the sink with a fresh requestId per call', () => {
    const { session, sink } = setup();
    session.enableMethods();
    void session.invokeMethod('reboot', { delay: 1 }, 30_000);
    void session.invokeMethod('reboot', { delay: 2 }, 30_000);
    expect(sink.methods).toHaveLength(2);
    expect(sink.methods[0]).toMatchObject({ methodName: 'reboot', payload: { delay: 1 } });
    expect(sink.methods[1]).toMatchObject({ methodName: 'reboot', payload: { delay: 2 } });
    expect(sink.methods[0]!.requestId).toBeString();
    expect(sink.methods[0]!.requestId).not.toBe(sink.methods[1]!.requestId);
  });

  const payloads: [string, JsonValue][] = [
    ['null', null],
    ['an empty string', ''],
    ['"foo"', 'foo'],
    ['{}', {}],
    ['{"k1":"v1"}', { k1: 'v1' }],
  ];
  test.each(payloads)('respondToMethod resolves the call with the status and the payload %s unchanged', async (_, payload) => {
    const { session, sink } = setup();
    session.enableMethods();
    const call = session.invokeMethod('echo', payload, 30_000);
    expect(sink.lastMethod.payload).toEqual(payload);
    session.respondToMethod(sink.lastMethod.requestId, 201, payload);
    expect(await call).toEqual({ status: 201, payload });
  });

  test("answers are matched to their call by requestId, and the device's error status passes through", async () => {
    const { session, sink } = setup();
    session.enableMethods();
    const first = session.invokeMethod('a', null, 30_000);
    const second = session.invokeMethod('b', null, 30_000);
    session.respondToMethod(sink.methods[1]!.requestId, 400, { error: 'bad' });
    session.respondToMethod(sink.methods[0]!.requestId, 200, 'ok');
    expect(await second).toEqual({ status: 400, payload: { error: 'bad' } });
    expect(await first).toEqual({ status: 200, payload: 'ok' });
  });

  test('an answer with an unknown requestId is ignored and the call stays pending', async () => {
    const { session, sink } = setup();
    session.enableMethods();
    const call = session.invokeMethod('reboot', null, 30_000);
    session.respondToMethod(`${sink.lastMethod.requestId}-other`, 200, 'wrong');
    expect(await stateOf(call)).toBe('pending');
    session.respondToMethod(sink.lastMethod.requestId, 200, 'right');
    expect(await call).toEqual({ status: 200, payload: 'right' });
  });

  test('a second answer to the same requestId is ignored', async () => {
    const { session, sink } = setup();
    session.enableMethods();
    const call = session.invokeMethod('reboot', null, 30_000);
    session.respondToMethod(sink.lastMethod.requestId, 200, 'first');
    session.respondToMethod(sink.lastMethod.requestId, 500, 'second');
    expect(await call).toEqual({ status: 200, payload: 'first' });
  });

  test('no answer within the response timeout rejects with GatewayTimeout, and a late answer is ignored', async () => {
    const { session, sink, clock } = setup();
    session.enableMethods();
    const call = session.invokeMethod('reboot', null, 5_000);
    clock.advance(4_999);
    expect(await stateOf(call)).toBe('pending');
    clock.advance(1);
    await hubErrorOf(() => call, 'GatewayTimeout');
    session.respondToMethod(sink.lastMethod.requestId, 200, 'late');
    expect(clock.pendingCount).toBe(0);
  });

  test('an answer in time cancels the response timer', async () => {
    const { session, sink, clock } = setup();
    session.enableMethods();
    const call = session.invokeMethod('reboot', null, 5_000);
    expect(clock.pendingCount).toBe(1);
    session.respondToMethod(sink.lastMethod.requestId, 200, null);
    expect(clock.pendingCount).toBe(0);
    clock.advance(10_000);
    expect(await call).toEqual({ status: 200, payload: null });
  });

  test('close rejects every pending call with DeviceConnectionClosedRemotely and cancels their timers', async () => {
    const { session, clock } = setup();
    session.enableMethods();
    const calls = [session.invokeMethod('a', null, 5_000), session.invokeMethod('b', null, 5_000)];
    await session.close();
    for (const call of calls) await hubErrorOf(() => call, 'DeviceConnectionClosedRemotely');
    expect(clock.pendingCount).toBe(0);
  });

  test('invokeMethod before enableMethods rejects with InvalidOperation and sends nothing', async () => {
    const { session, sink, clock } = setup();
    await hubErrorOf(() => session.invokeMethod('reboot', null, 5_000), 'InvalidOperation');
    expect(sink.methods).toHaveLength(0);
    expect(clock.pendingCount).toBe(0);
  });

  test('a device answer updates lastActivityTime', () => {
    const { session, sink, clock } = setup();
    session.enableMethods();
    void session.invokeMethod('reboot', null, 30_000);
    clock.advance(2_000);
    session.respondToMethod(sink.lastMethod.requestId, 200, null);
    expect(session.lastActivityTime).toBe(clock.now());
  });
});

describe('closing', () => {
  test('close marks the session closed and tells the hooks exactly once, however often it is called', async () => {
    const { session, closedHooks } = setup();
    await session.close();
    await session.close();
    expect(session.isClosed).toBe(true);
    expect(closedHooks).toEqual([session]);
  });

  test('close does not call the sink: the connection is already gone', async () => {
    const { session, sink } = setup();
    await session.close();
    expect(sink.calls).toEqual([]);
  });

  test('terminate tells the sink why, then closes the session', async () => {
    const { session, sink, closedHooks } = setup();
    await session.terminate({ code: 'ServerError', message: 'shutting down' });
    expect(sink.closes).toEqual([{ code: 'ServerError', message: 'shutting down' }]);
    expect(session.isClosed).toBe(true);
    expect(closedHooks).toEqual([session]);
  });

  test('terminate after close does not call the sink', async () => {
    const { session, sink } = setup();
    await session.close();
    await session.terminate({ code: 'ServerError', message: 'shutting down' });
    expect(sink.closes).toEqual([]);
  });

  test('an adapter that closes the session from inside sink.close ends it once', async () => {
    const { session, sink, closedHooks } = setup();
    sink.onClose = () => void session.close();
    await session.terminate({ code: 'IotHubUnauthorized', message: 'expired' });
    expect(closedHooks).toEqual([session]);
    expect(sink.closes).toHaveLength(1);
  });

  const afterClose: [string, (session: DeviceSession) => unknown][] = [
    ['sendTelemetry', (s) => s.sendTelemetry(message())],
    ['getTwin', (s) => s.getTwin()],
    ['patchReported', (s) => s.patchReported({ a: 1 })],
    ['settleC2d', (s) => s.settleC2d('lock-1', 'complete')],
    ['enableC2d', (s) => s.enableC2d()],
    ['enableMethods', (s) => s.enableMethods()],
    ['enableDesired', (s) => s.enableDesired()],
    ['invokeMethod', (s) => s.invokeMethod('reboot', null, 5_000)],
  ];
  test.each(afterClose)('%s after close fails with InvalidOperation and reaches no service', async (_, call) => {
    const { session, telemetry, twins, messages, sink } = setup();
    session.enableMethods();
    await session.close();
    await hubErrorOf(() => call(session), 'InvalidOperation');
    await flushPromises();
    expect(telemetry.appended).toEqual([]);
    expect(twins.reads).toEqual([]);
    expect(twins.reportedPatches).toEqual([]);
    expect(messages.settlements).toEqual([]);
    expect(messages.receives).toEqual([]);
    expect(sink.calls).toEqual([]);
  });

  test('enableMethods after close does not tell the hooks', async () => {
    const { session, methodsEnabledHooks } = setup();
    await session.close();
    expectHubError(() => session.enableMethods(), 'InvalidOperation');
    expect(methodsEnabledHooks).toEqual([]);
    expect(session.isMethodsEnabled).toBe(false);
  });

  test('description names the device, or the module and its device', () => {
    expect(setup().session.description).toBe("device 'd1'");
    expect(setup({ identity: moduleIdentity('d1', 'm1') }).session.description).toBe("module 'm1' of device 'd1'");
  });
});
