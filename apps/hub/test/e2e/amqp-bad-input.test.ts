/**
 * Bad input on the AMQP endpoint, from a plain rhea client and hand-made bytes over TLS: each
 * case fails only its own connection or link, with the condition the SDKs decode (digest §5.4),
 * and the hub keeps serving a well-behaved device on another connection.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import rhea, { type Sender } from 'rhea';
import { sasRecipes } from '@tributary/core';
import { amqpHeader, AmqpPeer, audienceOf, rawTlsSession, saslInitFrame, saslOutcomeCode, within, type AttachedLink } from '../support/amqp-peer.ts';
import { createDeviceOverRest, waitForDeviceEvents } from '../support/service-calls.ts';
import { expiresIn } from '../support/sdk-calls.ts';
import { forEachStorage, LOCALHOST_HUB_ENV, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

const eventsAddress = (deviceId: string) => `/devices/${encodeURIComponent(deviceId)}/messages/events`;
const telemetry = (messageId: string, body: Buffer | string) => ({
  message_id: messageId,
  body: rhea.message.data_section(Buffer.isBuffer(body) ? body : Buffer.from(body)),
});

forEachStorage('AMQP bad input', (storage) => {
  // One hub reached as localhost:<random AMQPS port> (rhea puts the host in TLS SNI, which Bun
  // refuses for an IP literal).
  let hub: SpawnedHub;
  let ca: string;
  let counter = 0;
  let healthy: { deviceId: string; peer: AmqpPeer; sender: AttachedLink<Sender> };
  const acknowledged: string[] = [];
  const peers: AmqpPeer[] = [];

  const hostName = () => `localhost:${hub.info.ports.amqps}`;
  const endpoint = () => ({ port: hub.info.ports.amqps, ca });

  async function newDevice(label: string): Promise<{ deviceId: string; key: string; token: string }> {
    const deviceId = `${label}-${storage}-${++counter}`;
    const key = await createDeviceOverRest(hub, deviceId);
    return { deviceId, key, token: sasRecipes.device(hostName(), deviceId, key, expiresIn(3600)) };
  }

  async function openPeer(): Promise<AmqpPeer> {
    const peer = await AmqpPeer.open(endpoint());
    peers.push(peer);
    return peer;
  }

  /** A connection that proved `token` with a put-token and attached a telemetry sender for `deviceId`. */
  async function deviceSender(deviceId: string, token: string) {
    const peer = await openPeer();
    expect((await peer.putToken(audienceOf(token), token)).statusCode).toBe(200);
    const sender = peer.attachSender(eventsAddress(deviceId));
    await sender.opened;
    return { peer, sender };
  }

  async function sendAccepted(peer: AmqpPeer, sender: AttachedLink<Sender>, message: ReturnType<typeof telemetry>): Promise<void> {
    expect(await peer.send(sender, message)).toEqual({ state: 'accepted' });
  }

  /** Sends on the healthy connection and records the message ids the hub accepted. */
  async function healthySend(messageId: string): Promise<void> {
    await sendAccepted(healthy.peer, healthy.sender, telemetry(messageId, `payload ${messageId}`));
    acknowledged.push(messageId);
  }

  beforeAll(async () => {
    hub = await spawnHub({ storage, env: LOCALHOST_HUB_ENV });
    ca = (await sharedTestCa()).certPem;
    const device = await newDevice('amqp-healthy');
    healthy = { deviceId: device.deviceId, ...(await deviceSender(device.deviceId, device.token)) };
    await healthySend('before');
  }, 60_000);

  afterAll(async () => {
    for (const peer of peers) peer.close();
    expect(await hub?.stop()).toBe(0);
  }, 30_000);

  test('garbage bytes instead of an AMQP header close that connection', async () => {
    const { isClosedByHub } = await rawTlsSession(endpoint(), [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
    expect(isClosedByHub).toBe(true);
    await healthySend('after-garbage-header');
  });

  test('a garbage frame after a valid AMQP header closes that connection', async () => {
    // A 16-byte frame (doff 2, type 0, channel 0) whose body is no performative.
    const frame = Buffer.from([0, 0, 0, 16, 2, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef]);
    const { isClosedByHub } = await rawTlsSession(endpoint(), [amqpHeader(0), frame]);
    expect(isClosedByHub).toBe(true);
    await healthySend('after-garbage-frame');
  });

  test('a frame header declaring 1 GB closes the connection before its body arrives', async () => {
    const header = Buffer.from([0x40, 0, 0, 0, 2, 0, 0, 0]);
    const { isClosedByHub } = await rawTlsSession(endpoint(), [amqpHeader(0), header], { timeoutMs: 3000 });
    expect(isClosedByHub).toBe(true);
    await healthySend('after-huge-frame');
  });

  test('a SASL mechanism the hub does not offer is refused', async () => {
    const { received, isClosedByHub } = await rawTlsSession(endpoint(), [amqpHeader(3), saslInitFrame('X-TRIBUTARY-MADE-UP')], {
      until: (bytes) => saslOutcomeCode(bytes) !== undefined,
    });
    const code = saslOutcomeCode(received);
    // A SASL outcome `auth` (1), or the connection closed without any outcome; never `ok` (0).
    expect(code === 1 || (code === undefined && isClosedByHub)).toBe(true);
    // Nothing past SASL: no AMQP header (protocol id 0) came back.
    expect(received.includes(amqpHeader(0))).toBe(false);
    await healthySend('after-bad-sasl');
  });

  test('SASL PLAIN (DPS registrations) is offered and, with no provisioning service yet, refuses the credentials', async () => {
    const container = rhea.create_container();
    container.on('error', () => {});
    const outcome = await new Promise<string>((resolve) => {
      const connection = container.connect({
        host: 'localhost',
        port: endpoint().port,
        transport: 'tls',
        ca: endpoint().ca,
        servername: 'localhost',
        reconnect: false,
        username: '0ne00000001/registrations/reg-1',
        password: 'SharedAccessSignature sr=0ne00000001%2Fregistrations%2Freg-1&sig=x&se=1&skn=registration',
      } as never);
      connection.on('connection_open', () => resolve('opened'));
      // rhea reports a SASL outcome other than ok as a connection error, before the socket closes.
      connection.on('connection_error', (context: { connection: { transport_error?: { condition?: string; message?: string } } }) => {
        const error = context.connection.transport_error;
        resolve(`refused: ${error?.condition} ${error?.message}`);
      });
      connection.on('disconnected', () => resolve('disconnected without an outcome'));
    });
    // A SASL outcome `auth` (1): PLAIN was offered and the credentials refused. Had PLAIN not been
    // offered, rhea would say "No suitable mechanism" instead.
    expect(outcome).toContain('amqp:unauthorized-access');
    expect(outcome).toContain('Failed to authenticate: 1');
    await healthySend('after-sasl-plain');
  });

  test('a put-token with a bad signature gets status 401, and a telemetry sender for that device is refused', async () => {
    const { deviceId, key } = await newDevice('amqp-bad-signature');
    const forged = sasRecipes.device(hostName(), deviceId, Buffer.alloc(32, 7).toString('base64'), expiresIn(3600));
    expect(key).not.toBe(Buffer.alloc(32, 7).toString('base64'));
    const peer = await openPeer();
    const reply = await peer.putToken(audienceOf(forged), forged);
    expect(reply.statusCode).toBe(401);
    expect(typeof reply.statusCode).toBe('number');
    const sender = peer.attachSender(eventsAddress(deviceId));
    expect(await within(sender.detached, 5000, 'still attached')).toMatchObject({ condition: 'amqp:unauthorized-access' });
    expect(await waitForDeviceEvents(hub, deviceId, () => false, 300)).toEqual([]);
    await healthySend('after-bad-signature');
  });

  test("a put-token for device A does not authorise a sender to device B's address", async () => {
    const a = await newDevice('amqp-device-a');
    const b = await newDevice('amqp-device-b');
    const peer = await openPeer();
    expect((await peer.putToken(audienceOf(a.token), a.token)).statusCode).toBe(200);
    const trespassing = peer.attachSender(eventsAddress(b.deviceId));
    expect(await within(trespassing.detached, 5000, 'still attached')).toMatchObject({ condition: 'amqp:unauthorized-access' });
    expect(await waitForDeviceEvents(hub, b.deviceId, () => false, 300)).toEqual([]);
    // The connection and A's own authorisation survive the refused link.
    expect(peer.isClosed).toBe(false);
    const own = peer.attachSender(eventsAddress(a.deviceId));
    await own.opened;
    await sendAccepted(peer, own, telemetry('own', 'mine'));
    expect((await waitForDeviceEvents(hub, a.deviceId, (found) => found.length > 0)).map((event) => event.bodyText)).toEqual(['mine']);
    await healthySend('after-trespass');
  });

  test('a 300 KB telemetry message is refused with amqp:link:message-size-exceeded and not stored', async () => {
    const { deviceId, token } = await newDevice('amqp-oversized');
    const { peer, sender } = await deviceSender(deviceId, token);
    await sendAccepted(peer, sender, telemetry('small', 'fits'));
    const outcome = await within(peer.send(sender, telemetry('big', Buffer.alloc(300 * 1024, 120))), 10_000, { state: 'no answer' });
    expect(['rejected', 'detached']).toContain(outcome.state);
    expect((outcome as { error?: { condition: string } }).error?.condition).toBe('amqp:link:message-size-exceeded');
    const stored = await waitForDeviceEvents(hub, deviceId, () => false, 300);
    expect(stored.map((event) => event.systemProperties['message-id'])).toEqual(['small']);
    await healthySend('after-oversized');
  });

  test('a message sent the moment the hub answers the attach is accepted on an authorised link and refused as unauthorized on another', async () => {
    // The SDKs send as soon as the attach is answered and credit granted; nothing else tells a
    // client the hub is ready. So the hub must not grant credit, or must hold the first messages,
    // until it has decided the link (authorised or refused).
    for (let i = 0; i < 5; i++) {
      const { deviceId, token } = await newDevice('amqp-eager');
      const peer = await openPeer();
      expect((await peer.putToken(audienceOf(token), token)).statusCode).toBe(200);
      const sender = peer.attachSender(eventsAddress(deviceId));
      expect(await peer.send(sender, telemetry(`eager-${i}`, 'eager'))).toEqual({ state: 'accepted' });
    }
    const { deviceId } = await newDevice('amqp-eager-unauthorised');
    const peer = await openPeer(); // no put-token: nothing authorises this device
    const sender = peer.attachSender(eventsAddress(deviceId));
    const outcome = await within(peer.send(sender, telemetry('eager-forged', 'forged')), 5000, { state: 'no answer' });
    expect(['rejected', 'detached']).toContain(outcome.state);
    // amqp:not-allowed here reaches the SDK as InvalidOperationError instead of UnauthorizedError.
    expect((outcome as { error?: { condition: string } }).error?.condition).toBe('amqp:unauthorized-access');
    expect(await waitForDeviceEvents(hub, deviceId, () => false, 300)).toEqual([]);
    await healthySend('after-eager');
  });

  test('attaching to an unknown address is refused with amqp:not-found', async () => {
    const peer = await openPeer();
    const sender = peer.attachSender('/nowhere/at/all');
    const receiver = peer.attachReceiver('/nowhere/at/all');
    expect(await within(sender.detached, 5000, 'still attached')).toMatchObject({ condition: 'amqp:not-found' });
    expect(await within(receiver.detached, 5000, 'still attached')).toMatchObject({ condition: 'amqp:not-found' });
    expect(peer.isClosed).toBe(false);
    await healthySend('after-not-found');
  });

  test('after all of it the healthy device and a new device on a new connection send, every accepted message is stored, and /health answers', async () => {
    await healthySend('last');
    const events = await waitForDeviceEvents(hub, healthy.deviceId, (found) => found.length >= acknowledged.length);
    const stored = events.map((event) => event.systemProperties['message-id']);
    for (const messageId of acknowledged) expect(stored).toContain(messageId);

    const { deviceId, token } = await newDevice('amqp-newcomer');
    const { peer, sender } = await deviceSender(deviceId, token);
    await sendAccepted(peer, sender, telemetry('newcomer-1', 'hello'));
    const newcomer = await waitForDeviceEvents(hub, deviceId, (found) => found.length > 0);
    expect(newcomer.map((event) => [event.systemProperties['message-id'], event.bodyText])).toEqual([['newcomer-1', 'hello']]);
    expect((await hub.fetch('/health')).status).toBe(200);
  });
});
