import { describe, expect, test } from 'bun:test';
import { HubError, type HubErrorName } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { SessionRegistry } from '../session/session-registry.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import {
  createFakeSessionServices,
  deviceIdentity,
  flushPromises,
  moduleIdentity,
  RecordingSink,
  stateOf,
} from '../testing/recording-sink.ts';
import { MAX_METHOD_NAME_LENGTH, MAX_METHOD_PAYLOAD_BYTES, type MethodInvocation, MethodInvoker } from './method-invoker.ts';

function setup() {
  const clock = new FakeClock();
  const fakes = createFakeSessionServices();
  const registry = new SessionRegistry({ services: fakes.services, clock, logger: silentLogger });
  const invoker = new MethodInvoker(registry);
  /** Connects `d1` (or a module of it) listening for methods. */
  const connect = async (moduleId: string | null = null) => {
    const sink = new RecordingSink();
    const identity = moduleId === null ? deviceIdentity('d1') : moduleIdentity('d1', moduleId);
    const session = await registry.open(identity, sink);
    session.enableMethods();
    return { sink, session };
  };
  return { clock, registry, invoker, connect };
}

const call = (overrides: Partial<MethodInvocation> = {}): MethodInvocation => ({
  deviceId: 'd1',
  moduleId: null,
  methodName: 'reboot',
  payload: null,
  ...overrides,
});

async function hubErrorOf(promise: Promise<unknown>, code: HubErrorName): Promise<HubError> {
  let thrown: unknown;
  try {
    await promise;
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(HubError);
  expect((thrown as HubError).code).toBe(code);
  return thrown as HubError;
}

describe('validating the call', () => {
  const badNames: [string, unknown][] = [
    ['missing', undefined],
    ['empty', ''],
    ['not a string', 42],
    [`longer than ${MAX_METHOD_NAME_LENGTH} characters`, 'm'.repeat(MAX_METHOD_NAME_LENGTH + 1)],
  ];
  test.each(badNames)('a methodName that is %s fails with ArgumentInvalid and reaches no device', async (_, methodName) => {
    const { invoker, connect } = setup();
    const { sink } = await connect();
    await hubErrorOf(invoker.invoke(call({ methodName: methodName as string })), 'ArgumentInvalid');
    expect(sink.methods).toEqual([]);
  });

  test(`a methodName of exactly ${MAX_METHOD_NAME_LENGTH} characters reaches the device`, async () => {
    const { invoker, connect } = setup();
    const { sink } = await connect();
    void invoker.invoke(call({ methodName: 'm'.repeat(MAX_METHOD_NAME_LENGTH) }));
    await flushPromises();
    expect(sink.methods).toHaveLength(1);
  });

  test.each([0, 4, 301, 5.5, -5, Number.NaN])(
    'responseTimeoutInSeconds %p fails with ArgumentInvalid and reaches no device',
    async (seconds) => {
      const { invoker, connect } = setup();
      const { sink } = await connect();
      await hubErrorOf(invoker.invoke(call({ responseTimeoutInSeconds: seconds })), 'ArgumentInvalid');
      expect(sink.methods).toEqual([]);
    },
  );

  test.each([5, 300])('responseTimeoutInSeconds %p is accepted and times out after that many seconds', async (seconds) => {
    const { invoker, connect, clock } = setup();
    await connect();
    const result = invoker.invoke(call({ responseTimeoutInSeconds: seconds }));
    await flushPromises();
    clock.advance(seconds * 1000 - 1);
    expect(await stateOf(result)).toBe('pending');
    clock.advance(1);
    await hubErrorOf(result, 'GatewayTimeout');
  });

  test.each([-1, 301, 1.5, Number.POSITIVE_INFINITY])(
    'connectTimeoutInSeconds %p fails with ArgumentInvalid',
    async (seconds) => {
      const { invoker, connect } = setup();
      const { sink } = await connect();
      await hubErrorOf(invoker.invoke(call({ connectTimeoutInSeconds: seconds })), 'ArgumentInvalid');
      expect(sink.methods).toEqual([]);
    },
  );

  test('connectTimeoutInSeconds 300 waits 300 s for the device', async () => {
    const { invoker, clock } = setup();
    const result = invoker.invoke(call({ connectTimeoutInSeconds: 300 }));
    await flushPromises();
    clock.advance(299_999);
    expect(await stateOf(result)).toBe('pending');
    clock.advance(1);
    await hubErrorOf(result, 'DeviceNotOnline');
  });

  test('a payload over 128 KB of JSON fails with MessageTooLarge and reaches no device', async () => {
    const { invoker, connect } = setup();
    const { sink } = await connect();
    // A JSON string is its characters plus two quotes.
    await hubErrorOf(invoker.invoke(call({ payload: 'x'.repeat(MAX_METHOD_PAYLOAD_BYTES - 1) })), 'MessageTooLarge');
    expect(sink.methods).toEqual([]);
  });

  test('a payload of exactly 128 KB of JSON reaches the device', async () => {
    const { invoker, connect } = setup();
    const { sink } = await connect();
    void invoker.invoke(call({ payload: 'x'.repeat(MAX_METHOD_PAYLOAD_BYTES - 2) }));
    await flushPromises();
    expect(sink.methods).toHaveLength(1);
  });

  test('the payload limit counts UTF-8 bytes', async () => {
    const { invoker, connect } = setup();
    await connect();
    // Under the limit in UTF-16 units, three times over it in bytes.
    await hubErrorOf(invoker.invoke(call({ payload: '€'.repeat(MAX_METHOD_PAYLOAD_BYTES / 2) })), 'MessageTooLarge');
  });
});

describe('reaching the device', () => {
  test('the call reaches the device with its name and payload, and resolves with the status and payload it answers', async () => {
    const { invoker, connect } = setup();
    const { sink, session } = await connect();
    const result = invoker.invoke(call({ methodName: 'setFan', payload: { speed: 3 } }));
    await flushPromises();
    expect(sink.lastMethod).toMatchObject({ methodName: 'setFan', payload: { speed: 3 } });
    session.respondToMethod(sink.lastMethod.requestId, 400, { error: 'too fast' });
    expect(await result).toEqual({ status: 400, payload: { error: 'too fast' } });
  });

  test('an omitted payload reaches the device as null', async () => {
    const { invoker, connect } = setup();
    const { sink } = await connect();
    const { payload: _omitted, ...withoutPayload } = call();
    void invoker.invoke(withoutPayload as MethodInvocation);
    await flushPromises();
    expect(sink.lastMethod.payload).toBeNull();
  });

  test('the response timeout defaults to 30 s and then fails with GatewayTimeout', async () => {
    const { invoker, connect, clock } = setup();
    await connect();
    const result = invoker.invoke(call());
    await flushPromises();
    clock.advance(29_999);
    expect(await stateOf(result)).toBe('pending');
    clock.advance(1);
    await hubErrorOf(result, 'GatewayTimeout');
  });

  test('an offline device fails with DeviceNotOnline at once when the connect timeout is the default 0', async () => {
    const { invoker, clock } = setup();
    const error = await hubErrorOf(invoker.invoke(call()), 'DeviceNotOnline');
    expect(error.message).toContain("Device 'd1'");
    expect(clock.pendingCount).toBe(0);
  });

  test('a connected device not subscribed to methods fails with DeviceNotOnline at once', async () => {
    const { invoker, registry } = setup();
    await registry.open(deviceIdentity('d1'), new RecordingSink());
    await hubErrorOf(invoker.invoke(call({ connectTimeoutInSeconds: 0 })), 'DeviceNotOnline');
  });

  test('GIVEN a connect timeout of 10 s WHEN the device connects and subscribes after 5 s THEN it gets the call', async () => {
    const { invoker, connect, clock } = setup();
    const result = invoker.invoke(call({ connectTimeoutInSeconds: 10, payload: 'hi' }));
    await flushPromises();
    clock.advance(5_000);
    const { sink, session } = await connect();
    await flushPromises();
    expect(sink.methods).toMatchObject([{ methodName: 'reboot', payload: 'hi' }]);
    session.respondToMethod(sink.lastMethod.requestId, 200, 'done');
    expect(await result).toEqual({ status: 200, payload: 'done' });
  });

  test('the response timeout starts when the call reaches the device, after the connect wait', async () => {
    const { invoker, connect, clock } = setup();
    const result = invoker.invoke(call({ connectTimeoutInSeconds: 10, responseTimeoutInSeconds: 5 }));
    await flushPromises();
    clock.advance(8_000);
    await connect();
    await flushPromises();
    clock.advance(4_999);
    expect(await stateOf(result)).toBe('pending');
    clock.advance(1);
    await hubErrorOf(result, 'GatewayTimeout');
  });

  test('a device that does not subscribe within the connect timeout fails with DeviceNotOnline when it ends', async () => {
    const { invoker, registry, clock } = setup();
    await registry.open(deviceIdentity('d1'), new RecordingSink());
    const result = invoker.invoke(call({ connectTimeoutInSeconds: 10 }));
    await flushPromises();
    clock.advance(9_999);
    expect(await stateOf(result)).toBe('pending');
    clock.advance(1);
    await hubErrorOf(result, 'DeviceNotOnline');
  });

  test('a device that disconnects before answering fails the call with DeviceConnectionClosedRemotely', async () => {
    const { invoker, connect } = setup();
    const { session } = await connect();
    const result = invoker.invoke(call());
    await flushPromises();
    await session.close();
    await hubErrorOf(result, 'DeviceConnectionClosedRemotely');
  });
});

describe('module targets', () => {
  test('a call to a module reaches that module and not its device', async () => {
    const { invoker, connect } = setup();
    const device = await connect();
    const module = await connect('m1');
    const result = invoker.invoke(call({ moduleId: 'm1', methodName: 'ping' }));
    await flushPromises();
    expect(device.sink.methods).toEqual([]);
    expect(module.sink.methods).toMatchObject([{ methodName: 'ping' }]);
    module.session.respondToMethod(module.sink.lastMethod.requestId, 400, null);
    expect(await result).toEqual({ status: 400, payload: null });
  });

  test('a call to a module that is offline fails with DeviceNotOnline naming the module, even if its device listens', async () => {
    const { invoker, connect } = setup();
    await connect();
    const error = await hubErrorOf(invoker.invoke(call({ moduleId: 'm1' })), 'DeviceNotOnline');
    expect(error.message).toContain("Module 'm1' of device 'd1'");
  });

  test('a call to a device does not reach one of its modules', async () => {
    const { invoker, connect } = setup();
    const module = await connect('m1');
    await hubErrorOf(invoker.invoke(call()), 'DeviceNotOnline');
    expect(module.sink.methods).toEqual([]);
  });
});
