/**
 * One raw MQTT client connection of a load-generator worker, over TLS (`Bun.connect({tls})`) or
 * plain TCP (Mosquitto): CONNECT → CONNACK, then the caller writes pre-encoded bytes and gets
 * each incoming packet. Writes the kernel cannot take yet are queued until `drain`.
 * @module
 */

import type { Socket } from 'bun';
import { CONNACK, FrameReader, type IncomingPacket } from './mqtt-wire.ts';

export interface Endpoint {
  host: string;
  port: number;
  /** TLS to the hub; absent for plain TCP. */
  tls?: { ca: string; serverName: string };
}

export interface ConnectionHandlers {
  onPacket?(packet: IncomingPacket): void;
  /** After every packet of one received chunk was handled: the moment to write replies in one go. */
  afterChunk?(): void;
  onClose?(): void;
}

export class MqttConnection {
  private readonly reader = new FrameReader();
  private readonly queue: Buffer[] = [];
  private socket: Socket<undefined> | undefined;
  private connack: { resolve(): void; reject(error: Error): void } | undefined;
  isOpen = false;

  private constructor(private readonly handlers: ConnectionHandlers) {}

  /** Opens the socket, sends `connect` and resolves on CONNACK 0 (rejects on any other code or a close). */
  static async open(endpoint: Endpoint, connect: Buffer, handlers: ConnectionHandlers = {}, timeoutMs = 30_000): Promise<MqttConnection> {
    const connection = new MqttConnection(handlers);
    const acknowledged = new Promise<void>((resolve, reject) => (connection.connack = { resolve, reject }));
    const timer = setTimeout(() => connection.connack?.reject(new Error('no CONNACK in time')), timeoutMs);
    try {
      connection.socket = await Bun.connect({
        hostname: endpoint.host,
        port: endpoint.port,
        ...(endpoint.tls ? { tls: { ca: endpoint.tls.ca, serverName: endpoint.tls.serverName } } : {}),
        socket: {
          data: (_socket, chunk) => connection.receive(chunk as Buffer),
          drain: () => connection.flush(),
          close: () => connection.closed(new Error('connection closed')),
          error: (_socket, error) => connection.closed(error),
          connectError: (_socket, error) => connection.closed(error),
        },
      });
      connection.isOpen = true;
      connection.write(connect);
      await acknowledged;
      return connection;
    } catch (error) {
      connection.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  write(bytes: Buffer): void {
    if (!this.socket || !this.isOpen) return;
    if (this.queue.length > 0) {
      this.queue.push(Buffer.from(bytes));
      return;
    }
    const written = Math.max(0, this.socket.write(bytes));
    if (written < bytes.length) this.queue.push(Buffer.from(bytes.subarray(written)));
  }

  /** Ends the connection (after `lastBytes`, e.g. DISCONNECT). */
  close(lastBytes?: Buffer): void {
    const isOpen = this.isOpen;
    this.isOpen = false;
    if (lastBytes && this.socket && isOpen && this.queue.length === 0) this.socket.write(lastBytes);
    this.socket?.end();
  }

  private flush(): void {
    while (this.socket && this.queue.length > 0) {
      const head = this.queue[0]!;
      const written = Math.max(0, this.socket.write(head));
      if (written < head.length) {
        this.queue[0] = head.subarray(written);
        return;
      }
      this.queue.shift();
    }
  }

  private receive(chunk: Buffer): void {
    this.reader.push(chunk, (packet) => {
      if (packet.type === CONNACK && this.connack) {
        const code = packet.body[1]!;
        if (code === 0) this.connack.resolve();
        else this.connack.reject(new Error(`CONNACK return code ${code}`));
        this.connack = undefined;
        return;
      }
      this.handlers.onPacket?.(packet);
    });
    this.handlers.afterChunk?.();
  }

  private closed(error: Error): void {
    const wasOpen = this.isOpen;
    this.isOpen = false;
    this.connack?.reject(error);
    this.connack = undefined;
    if (wasOpen) this.handlers.onClose?.();
  }
}
