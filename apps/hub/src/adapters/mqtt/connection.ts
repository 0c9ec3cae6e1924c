/**
 * One MQTT 3.1.1 connection: framing (frame-reader.ts, packet-decoder.ts, packet-encoder.ts), the
 * CONNECT-first rule, keepalive (1.5 × the client's value, [MQTT-3.1.2-24], on the shared idle
 * wheel), packet ids for hub → device QoS 1 publishes, and dispatch of each packet to its
 * handler. Protocol grammar lives in handlers/, IoT Hub behaviour in core.
 * An idle connection is held by thousands, so what it keeps is kept small: no parser, timer or
 * closure of its own, and nothing of its CONNECT once the session is open.
 * @module
 */

import type { Packet } from 'mqtt-packet';
import type { DeviceSession, Logger } from '@tributary/core';
import type { ByteStream } from './byte-stream.ts';
import type { MqttAdapterDeps } from './deps.ts';
import { FrameReader, FramingError } from './frame-reader.ts';
import { handleConnect } from './handlers/connect.ts';
import { handlePuback } from './handlers/puback.ts';
import { handlePublish } from './handlers/publish.ts';
import { handleSubscribe, handleUnsubscribe } from './handlers/subscribe.ts';
import type { IdleEntry } from './idle-wheel.ts';
import { decodePacket } from './packet-decoder.ts';
import { encodePacket } from './packet-encoder.ts';
import type { Subscription } from './topics.ts';

/** A PUBLISH may carry 256 KB of message plus a topic (≤ 64 KB); anything larger is refused unread. */
export const MAX_PACKET_BYTES = 256 * 1024 + 64 * 1024 + 8;
/** A client must send CONNECT this soon after the transport opens. */
export const CONNECT_TIMEOUT_MS = 10_000;

let nextConnectionId = 1;

/** The start of every connection's acknowledgement chain: one settled promise serves them all. */
const SETTLED: Promise<void> = Promise.resolve();

export class MqttConnection implements IdleEntry {
  readonly id = nextConnectionId++;
  readonly stream: ByteStream;
  readonly deps: MqttAdapterDeps;
  logger: Logger;
  session: DeviceSession | undefined;
  clientId = '';
  subscriptions = new Set<Subscription>();
  /** Hub → device QoS 1 publishes awaiting PUBACK: packet id → lock token. */
  readonly unacknowledged = new Map<number, string>();
  /** PUBACKs to devices go out in the order the PUBLISHes came in [MQTT-4.6.0-2]. */
  acknowledgements: Promise<void> = SETTLED;
  /** When the connection expires unless a packet arrives (see IdleWheel). */
  idleDeadlineMs: number;

  readonly #frames = new FrameReader(MAX_PACKET_BYTES);
  #isConnecting = false;
  /** Packets that arrived behind CONNECT before CONNACK [MQTT-3.1.4-5]: run after it, dropped on refusal. */
  #heldUntilConnected: Packet[] | undefined;
  #isClosed = false;
  #nextPacketId = 1;
  #keepaliveMs = 0;

  constructor(stream: ByteStream, deps: MqttAdapterDeps) {
    this.stream = stream;
    this.deps = deps;
    this.logger = deps.logger.child({ adapter: 'mqtt', transport: stream.transport, connId: this.id });
    this.idleDeadlineMs = deps.clock.now() + CONNECT_TIMEOUT_MS;
    deps.idleWheel.watch(this);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Bytes from the transport. */
  receive(chunk: Uint8Array): void {
    if (this.#isClosed) return;
    try {
      this.#frames.read(chunk, (bytes) => this.#decoded(bytes));
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      this.close(error.event, error.fields);
    }
  }

  write(packet: Packet): void {
    if (this.#isClosed) return;
    this.stream.write(encodePacket(packet));
  }

  /** A packet id for a QoS 1 publish to the device, skipping ids still in flight. */
  allocatePacketId(): number {
    for (;;) {
      const id = this.#nextPacketId;
      this.#nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.unacknowledged.has(id)) return id;
    }
  }

  /** Arms keepalive after CONNACK: the client must send something every 1.5 × keepalive seconds. */
  startKeepalive(keepaliveSeconds: number): void {
    this.#keepaliveMs = keepaliveSeconds > 0 ? Math.ceil(keepaliveSeconds * 1500) : 0;
    if (this.#keepaliveMs === 0) return this.deps.idleWheel.unwatch(this);
    this.idleDeadlineMs = this.deps.clock.now() + this.#keepaliveMs;
    this.deps.idleWheel.watch(this);
  }

  /** Ends the connection (idempotent): closes the transport and the device session. */
  close(event: string, fields: Record<string, unknown> = {}): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.deps.idleWheel.unwatch(this);
    this.logger.info(`mqtt_${event}`, fields);
    this.stream.end();
    void this.session?.close();
  }

  /** The transport is gone (peer closed, network error). */
  transportClosed(): void {
    this.close('connection_closed');
  }

  /** The CONNECT timeout or the keepalive ran out (see IdleWheel). */
  idleExpired(): void {
    this.close(this.session ? 'keepalive_expired' : 'connect_timeout');
  }

  /** Runs what arrived while CONNECT was being handled, once the session is open. */
  #connected(): void {
    const held = this.#heldUntilConnected;
    this.#heldUntilConnected = undefined;
    if (this.session && held) for (const packet of held) this.#dispatch(packet);
  }

  #decoded(bytes: Uint8Array): void {
    if (this.#isClosed) return;
    let packet: Packet;
    try {
      packet = decodePacket(bytes);
    } catch (error) {
      return this.close('malformed_packet', { error: (error as Error).message });
    }
    this.#dispatch(packet);
  }

  #dispatch(packet: Packet): void {
    if (this.#isClosed) return;
    if (this.#keepaliveMs > 0) this.idleDeadlineMs = this.deps.clock.now() + this.#keepaliveMs;
    if (packet.cmd === 'connect') {
      // [MQTT-3.1.0-2] a second CONNECT is a protocol violation.
      if (this.#isConnecting || this.session) return this.close('second_connect');
      this.#isConnecting = true;
      void handleConnect(this, packet)
        .then(() => this.#connected())
        .catch((error) => this.#failed('connect', error));
      return;
    }
    // [MQTT-3.1.0-1] the first packet must be CONNECT. Clients may send more before CONNACK.
    if (!this.session) {
      if (!this.#isConnecting) return this.close('packet_before_connect', { cmd: packet.cmd });
      (this.#heldUntilConnected ??= []).push(packet);
      return;
    }
    switch (packet.cmd) {
      case 'publish':
        return void handlePublish(this, packet).catch((error) => this.#failed('publish', error));
      case 'puback':
        return void handlePuback(this, packet).catch((error) => this.#failed('puback', error));
      case 'subscribe':
        return void handleSubscribe(this, packet).catch((error) => this.#failed('subscribe', error));
      case 'unsubscribe':
        return void handleUnsubscribe(this, packet).catch((error) => this.#failed('unsubscribe', error));
      case 'pingreq':
        return this.write({ cmd: 'pingresp' });
      case 'disconnect':
        return this.close('disconnected');
      default:
        return this.close('unexpected_packet', { cmd: packet.cmd });
    }
  }

  /** A handler failed unexpectedly: a bug, logged once with its stack; only this connection ends. */
  #failed(what: string, error: unknown): void {
    this.logger.error('mqtt_handler_failed', { handler: what, error });
    this.close('closed_after_error');
  }
}

