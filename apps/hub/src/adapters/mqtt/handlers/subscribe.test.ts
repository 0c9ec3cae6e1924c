import { describe, expect, test } from 'bun:test';
import { createMqttHarness, flush, publishPacket, subscribePacket, unsubscribePacket } from '../test-harness.ts';

const C2D = 'devices/d1/messages/devicebound/#';
const METHODS = '$iothub/methods/POST/#';
const TWIN_RESPONSES = '$iothub/twin/res/#';
const DESIRED = '$iothub/twin/PATCH/properties/desired/#';
const SUBACK_FAILURE = 0x80;

describe('SUBSCRIBE', () => {
  test("a device's IoT Hub filters are granted: C2D at QoS 1, the `$iothub` topics at QoS 0", async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(subscribePacket(21, [[C2D, 1], [METHODS, 1], [TWIN_RESPONSES, 1], [DESIRED, 1]]));
    await flush();
    expect(client.lastSuback).toMatchObject({ cmd: 'suback', messageId: 21, granted: [1, 0, 0, 0] });
    expect(client.isEnded).toBe(false);
  });

  test('a filter requested at QoS 0 is granted at QoS 0', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(subscribePacket(1, [[C2D, 0], [METHODS, 0]]));
    await flush();
    expect(client.lastSuback?.granted).toEqual([0, 0]);
  });

  test("a module's own inputs filter is granted at QoS 1, the C2D filter is refused", async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1/m1');
    client.send(subscribePacket(2, [['devices/d1/modules/m1/inputs/#', 1], [C2D, 1], [METHODS, 0]]));
    await flush();
    expect(client.lastSuback?.granted).toEqual([1, SUBACK_FAILURE, 0]);
    expect(client.isEnded).toBe(false);
  });

  test("`#`, other wildcards and another device's C2D filter get 0x80 while the rest of the SUBSCRIBE is granted", async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(
      subscribePacket(3, [
        ['#', 0],
        [METHODS, 0],
        ['devices/d2/messages/devicebound/#', 1],
        ['devices/+/messages/devicebound/#', 1],
        [C2D, 1],
      ]),
    );
    await flush();
    expect(client.lastSuback?.granted).toEqual([SUBACK_FAILURE, 0, SUBACK_FAILURE, SUBACK_FAILURE, 1]);
    expect(client.isEnded).toBe(false);
  });

  test("a refused foreign C2D filter delivers none of that device's messages", async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d2');
    const client = await h.connect('d1');
    client.send(subscribePacket(3, [['devices/d2/messages/devicebound/#', 1]]));
    await flush();
    expect(client.publishes).toEqual([]);
    expect(h.fakes.messages.queuedCount('d2')).toBe(1);
  });

  test('the SUBACK is written before the C2D publish the subscription triggers', async () => {
    const h = createMqttHarness();
    h.fakes.messages.enqueue('d1');
    const client = await h.connect('d1');
    client.send(subscribePacket(4, [[C2D, 1]]));
    await flush();
    expect(client.stream.log).toEqual(['connack', 'suback', 'publish']);
  });

  test('a methods subscription makes the device reachable for method calls', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    expect(h.sessions.get('d1')!.isMethodsEnabled).toBe(false);
    await client.subscribe(METHODS);
    expect(h.sessions.get('d1')!.isMethodsEnabled).toBe(true);
  });

  test('a desired subscription forwards desired patches; without it none are published', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    h.sessions.desiredPatched({ deviceId: 'd1', moduleId: null }, { color: 'red', $version: 2 });
    await flush();
    expect(client.publishes).toEqual([]);
    await client.subscribe(DESIRED);
    h.sessions.desiredPatched({ deviceId: 'd1', moduleId: null }, { color: 'blue', $version: 3 });
    await flush();
    expect(client.publishes.map((p) => p.topic)).toEqual(['$iothub/twin/PATCH/properties/desired/?$version=3']);
  });

  test('subscribing to the same filter twice is granted twice and still delivers each message once', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    const second = await client.subscribe(C2D);
    expect(second.granted).toEqual([1]);
    h.fakes.messages.enqueue('d1');
    h.sessions.c2dQueued('d1');
    await flush();
    expect(client.publishes).toHaveLength(1);
  });
});

describe('UNSUBSCRIBE', () => {
  test('UNSUBSCRIBE is answered with UNSUBACK carrying its packet id', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    client.send(unsubscribePacket(31, [C2D]));
    await flush();
    expect(client.written('unsuback')).toEqual([expect.objectContaining({ cmd: 'unsuback', messageId: 31 })]);
  });

  test('after unsubscribing from C2D, newly queued messages are not published', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(C2D);
    client.send(unsubscribePacket(32, [C2D]));
    await flush();
    h.fakes.messages.enqueue('d1');
    h.sessions.c2dQueued('d1');
    await flush();
    expect(client.publishes).toEqual([]);
    expect(h.fakes.messages.queuedCount('d1')).toBe(1);
  });

  test('after unsubscribing from methods, the device no longer takes method calls', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(METHODS);
    client.send(unsubscribePacket(33, [METHODS]));
    await flush();
    expect(h.sessions.get('d1')!.isMethodsEnabled).toBe(false);
  });

  test('after unsubscribing from twin responses, twin requests get no response', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(TWIN_RESPONSES);
    client.send(unsubscribePacket(34, [TWIN_RESPONSES]));
    await flush();
    client.send(publishPacket('$iothub/twin/GET/?$rid=1', ' '));
    await flush();
    expect(client.publishes).toEqual([]);
  });

  test('after unsubscribing from desired patches, none are published', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    await client.subscribe(DESIRED);
    client.send(unsubscribePacket(35, [DESIRED]));
    await flush();
    h.sessions.desiredPatched({ deviceId: 'd1', moduleId: null }, { a: 1, $version: 2 });
    await flush();
    expect(client.publishes).toEqual([]);
  });

  test('unsubscribing from a filter never subscribed, or unknown, is still answered and keeps the connection', async () => {
    const h = createMqttHarness();
    const client = await h.connect('d1');
    client.send(unsubscribePacket(36, [C2D, '#', 'anything/else']));
    await flush();
    expect(client.written('unsuback').map((p) => p.messageId)).toEqual([36]);
    expect(client.isEnded).toBe(false);
  });
});
