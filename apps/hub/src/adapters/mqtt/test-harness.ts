/**
 * Test support for the MQTT adapter (STYLE.md §8, aedes `test/helper.js`): an in-memory ByteStream
 * that records what the adapter writes and decodes it back into packets, a fake authenticator the
 * test controls, a telemetry sink whose appends settle one by one, and a harness that builds
 * MqttConnections over a real SessionRegistry, fake session services and a FakeClock.
 * Never imported by production code.
 * @module
 */

import mqttPacket, {
  type IConnackPacket,
  type IConnectPacket,
  type IPublishPacket,
  type ISubackPacket,
  type Packet,
  type QoS,
} from 'mqtt-packet';
import {
  type AuthenticatedDevice,
  type DeviceCredentials,
  type DeviceSessionOptions,
  SessionRegistry,
  silentLogger,
  type TelemetrySink,
} from '@tributary/core';
import {
  createFakeSessionServices,
  deviceIdentity,
  FakeClock,
  Gate,
  type FakeSessionServices,
  flushPromises,
  moduleIdentity,
  type TelemetryAppend,
} from '@tributary/core/testing';
import type { ByteStream } from './byte-stream.ts';
import { MqttConnection } from './connection.ts';
import type { MqttAdapterDeps } from './deps.ts';
import { IdleWheel } from './idle-wheel.ts';
import { PersistentSessions } from './persistent-sessions.ts';

/** A SAS token as the SDK puts it in the CONNECT password; the fake authenticator never parses it. */
export const SAS_TOKEN = 'SharedAccessSignature sr=hub.local%2Fdevices%2Fd1&sig=c2ln&se=1893456000';

/**
 * The transport side of one connection, in memory: every chunk the adapter writes is kept and
 * decoded with mqtt-packet's parser; `log` lists written packets' cmds and `end` in order.
 */
export class MemoryByteStream implements ByteStream {
  readonly remoteAddress = '203.0.113.7';
  readonly transport = 'mqtt';
  readonly peerCertificateChain: Uint8Array[];
  readonly chunks: Uint8Array[] = [];
  /** What happened on the stream, in order: a written packet's `cmd`, or `end`. */
  readonly log: string[] = [];
  isEnded = false;
  /** Chunks written after `end()`: the adapter must never do that. */
  writesAfterEnd = 0;
  readonly #packets: Packet[] = [];
  readonly #decodeErrors: Error[] = [];
  readonly #parser = mqttPacket.parser({ protocolVersion: 4 });

  constructor(options: { peerCertificateChain?: Uint8Array[] } = {}) {
    this.peerCertificateChain = options.peerCertificateChain ?? [];
    this.#parser.on('packet', (packet) => {
      this.#packets.push(packet);
      this.log.push(packet.cmd);
    });
    this.#parser.on('error', (error) => this.#decodeErrors.push(error));
  }

  write(bytes: Uint8Array): void {
    if (this.isEnded) this.writesAfterEnd++;
    const copy = Uint8Array.from(bytes);
    this.chunks.push(copy);
    this.#parser.parse(Buffer.from(copy));
  }

  end(): void {
    if (!this.isEnded) this.log.push('end');
    this.isEnded = true;
  }

  /** Every packet the adapter wrote, decoded; throws if it wrote bytes that are not MQTT 3.1.1. */
  get packets(): Packet[] {
    if (this.#decodeErrors.length > 0) throw new Error(`the adapter wrote undecodable bytes: ${this.#decodeErrors[0]!.message}`);
    return [...this.#packets];
  }
}

/** `authenticate` under the test's control: records credentials, resolves an identity or refuses. */
export class FakeAuthenticator {
  readonly calls: DeviceCredentials[] = [];
  #refusal: unknown;
  readonly #gate = new Gate();

  /** Later calls reject with `error`; `undefined` makes them succeed again. */
  refuseWith(error: unknown): void {
    this.#refusal = error;
  }

  /** Later calls stay pending until `release()`. */
  hold(): void {
    this.#gate.close();
  }

  release(): void {
    this.#gate.open();
  }

  /** The identity a successful call resolves to: the device or module the credentials name. */
  identityFor(credentials: DeviceCredentials): AuthenticatedDevice {
    const x509 = credentials.kind === 'x509';
    if (credentials.moduleId !== undefined) {
      return moduleIdentity(credentials.deviceId, credentials.moduleId, x509 ? { authMethod: { scope: 'module', type: 'x509Certificate', issuer: 'iothub' } } : {});
    }
    return deviceIdentity(credentials.deviceId, x509 ? { authMethod: { scope: 'device', type: 'x509Certificate', issuer: 'iothub' } } : {});
  }

  readonly authenticate = async (credentials: DeviceCredentials): Promise<AuthenticatedDevice> => {
    this.calls.push(credentials);
    await this.#gate.pass();
    if (this.#refusal !== undefined) throw this.#refusal;
    return this.identityFor(credentials);
  };
}

interface PendingAppend {
  input: TelemetryAppend;
  resolve(): void;
  reject(error: unknown): void;
}

/** A telemetry sink whose appends stay pending until the test settles each one, in any order. */
export class ControlledTelemetrySink implements TelemetrySink {
  readonly appends: PendingAppend[] = [];

  append(input: TelemetryAppend): Promise<unknown> {
    return new Promise<void>((resolve, reject) => {
      this.appends.push({ input, resolve: () => resolve(), reject });
    });
  }

  /** The n-th append (0-based); throws when there is none. */
  at(index: number): PendingAppend {
    const append = this.appends[index];
    if (!append) throw new Error(`no append #${index}; ${this.appends.length} so far`);
    return append;
  }
}

/** Encodes a packet as a device would send it; throws on what mqtt-packet refuses to encode. */
export function encode(packet: Packet): Uint8Array {
  return mqttPacket.generate(packet);
}

export function connectPacket(clientId: string, overrides: Partial<IConnectPacket> = {}): IConnectPacket {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 0,
    clientId,
    username: `hub.local/${clientId}/?api-version=2021-04-12`,
    password: Buffer.from(SAS_TOKEN),
    ...overrides,
  };
}

export function publishPacket(
  topic: string,
  payload: string | Uint8Array = '',
  options: { qos?: QoS; messageId?: number; retain?: boolean } = {},
): IPublishPacket {
  const qos = options.qos ?? 0;
  return {
    cmd: 'publish',
    topic,
    payload: typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload),
    qos,
    dup: false,
    retain: options.retain ?? false,
    ...(qos > 0 ? { messageId: options.messageId ?? 1 } : {}),
  };
}

export function subscribePacket(messageId: number, filters: [topic: string, qos: QoS][]): Packet {
  return { cmd: 'subscribe', messageId, subscriptions: filters.map(([topic, qos]) => ({ topic, qos })) };
}

export function unsubscribePacket(messageId: number, filters: string[]): Packet {
  return { cmd: 'unsubscribe', messageId, unsubscriptions: filters };
}

/** Runs every queued promise job, a few rounds deep (never a timer: advance the FakeClock). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 3; i++) await flushPromises();
}

/** One device's end of a connection: sends encoded packets, reads what the adapter wrote. */
export class MqttTestClient {
  readonly connection: MqttConnection;
  readonly stream: MemoryByteStream;

  constructor(connection: MqttConnection, stream: MemoryByteStream) {
    this.connection = connection;
    this.stream = stream;
  }

  /** Sends each packet as its own chunk. */
  send(...packets: Packet[]): void {
    for (const packet of packets) this.connection.receive(encode(packet));
  }

  sendBytes(bytes: Uint8Array): void {
    this.connection.receive(bytes);
  }

  get packets(): Packet[] {
    return this.stream.packets;
  }

  get isEnded(): boolean {
    return this.stream.isEnded;
  }

  /** Packets of one kind, in the order they were written. */
  written<C extends Packet['cmd']>(cmd: C): Extract<Packet, { cmd: C }>[] {
    return this.packets.filter((packet): packet is Extract<Packet, { cmd: C }> => packet.cmd === cmd);
  }

  get publishes(): IPublishPacket[] {
    return this.written('publish');
  }

  get connack(): IConnackPacket | undefined {
    return this.written('connack')[0];
  }

  get lastSuback(): ISubackPacket | undefined {
    return this.written('suback').at(-1);
  }

  /** Subscribes and waits for the SUBACK; throws when none arrives. */
  async subscribe(...filters: string[]): Promise<ISubackPacket> {
    const before = this.written('suback').length;
    this.send(subscribePacket(1000 + before, filters.map((topic) => [topic, 1] as [string, QoS])));
    await flush();
    const suback = this.written('suback')[before];
    if (!suback) throw new Error(`no SUBACK for ${filters.join(', ')}`);
    return suback;
  }
}

export interface MqttHarness {
  clock: FakeClock;
  fakes: FakeSessionServices;
  /** Set with `controlledTelemetry: true`: appends settle one by one under the test's control. */
  telemetry: ControlledTelemetrySink | undefined;
  sessions: SessionRegistry;
  persistentSessions: PersistentSessions;
  authenticator: FakeAuthenticator;
  deps: MqttAdapterDeps;
  /** A new transport connection that has sent nothing yet. */
  open(options?: { peerCertificateChain?: Uint8Array[] }): MqttTestClient;
  /** A new connection that has sent CONNECT and received CONNACK 0; throws otherwise. */
  connect(clientId?: string, overrides?: Partial<IConnectPacket>): Promise<MqttTestClient>;
}

export function createMqttHarness(
  options: { sessionOptions?: Partial<DeviceSessionOptions>; controlledTelemetry?: boolean } = {},
): MqttHarness {
  const clock = new FakeClock();
  const fakes = createFakeSessionServices();
  const telemetry = options.controlledTelemetry ? new ControlledTelemetrySink() : undefined;
  const sessions = new SessionRegistry({
    services: telemetry ? { ...fakes.services, telemetry } : fakes.services,
    clock,
    logger: silentLogger,
    ...(options.sessionOptions ? { options: options.sessionOptions } : {}),
  });
  const persistentSessions = new PersistentSessions();
  const authenticator = new FakeAuthenticator();
  const deps: MqttAdapterDeps = {
    authenticate: authenticator.authenticate,
    sessions,
    persistentSessions,
    idleWheel: new IdleWheel(clock),
    clock,
    logger: silentLogger,
  };

  const open = (streamOptions: { peerCertificateChain?: Uint8Array[] } = {}) => {
    const stream = new MemoryByteStream(streamOptions);
    return new MqttTestClient(new MqttConnection(stream, deps), stream);
  };

  return {
    clock,
    fakes,
    telemetry,
    sessions,
    persistentSessions,
    authenticator,
    deps,
    open,
    async connect(clientId = 'd1', overrides = {}) {
      const client = open();
      client.send(connectPacket(clientId, overrides));
      await flush();
      const connack = client.connack;
      if (connack?.returnCode !== 0) throw new Error(`CONNECT of '${clientId}' got ${connack ? `CONNACK ${connack.returnCode}` : 'no CONNACK'}`);
      return client;
    },
  };
}
