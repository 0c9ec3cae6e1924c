/**
 * A plain AMQP 1.0 client for tests (rhea, raw AMQP header as the IoT SDKs send it, no SASL):
 * CBS put-token, attaching senders and receivers, and the outcome of each delivery or attach,
 * so tests can assert the exact conditions the hub answers with. Also a raw TLS session for
 * hand-made bytes.
 * @module
 */

import tls from 'node:tls';
import rhea, { type Connection, type Container, type Delivery, type EventContext, type Message, type Receiver, type Sender } from 'rhea';

export interface AmqpErrorInfo {
  condition: string;
  description?: string;
}

/** What became of one delivery: a disposition from the hub, or the link or connection ending first. */
export type DeliveryOutcome =
  | { state: 'accepted' }
  | { state: 'rejected'; error?: AmqpErrorInfo }
  | { state: 'released' }
  | { state: 'modified' }
  | { state: 'detached'; error?: AmqpErrorInfo }
  | { state: 'disconnected'; error?: AmqpErrorInfo };

export interface AttachedLink<L extends Sender | Receiver> {
  link: L;
  /** Resolves when the hub answers the attach. */
  opened: Promise<void>;
  /** Resolves when the hub detaches the link (with its error, if any) or the connection ends. */
  detached: Promise<AmqpErrorInfo | undefined>;
}

/** Resolves with `promise`'s value, or `fallback` after `ms`. */
export function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return Promise.race([promise, new Promise<F>((resolve) => setTimeout(() => resolve(fallback), ms))]);
}

const errorOf = (value: unknown): AmqpErrorInfo | undefined => {
  const error = value as { condition?: unknown; description?: unknown } | undefined;
  if (!error || typeof error.condition !== 'string') return undefined;
  return { condition: error.condition, ...(typeof error.description === 'string' ? { description: error.description } : {}) };
};

export interface AmqpPeerOptions {
  host?: string;
  port: number;
  ca: string;
  /** TLS servername (SNI); Bun refuses an IP literal here. */
  servername?: string;
  /** rhea connection options to add (e.g. `sasl_mechanisms`, `username`). */
  extra?: Record<string, unknown>;
}

export class AmqpPeer {
  readonly container: Container;
  readonly connection: Connection;
  /** Resolves when the connection ends, with the hub's close error if it sent one. */
  readonly closed: Promise<AmqpErrorInfo | undefined>;
  #isClosed = false;
  #cbs?: { sender: Sender; receiver: Receiver; pending: Map<string, (reply: { statusCode: unknown; description: unknown }) => void> };

  private constructor(options: AmqpPeerOptions) {
    this.container = rhea.create_container({ id: `test-${crypto.randomUUID()}` });
    // rhea throws unhandled link and connection errors from the container: tests read them from the promises here.
    this.container.on('error', () => {});
    this.connection = this.container.connect({
      host: options.host ?? 'localhost',
      hostname: options.host ?? 'localhost',
      port: options.port,
      transport: 'tls',
      ca: options.ca,
      servername: options.servername ?? 'localhost',
      reconnect: false,
      ...options.extra,
    } as never);
    this.closed = new Promise((resolve) => {
      let error: AmqpErrorInfo | undefined;
      this.connection.on('connection_error', (context: EventContext) => {
        error ??= errorOf(context.connection.error) ?? errorOf((context.connection as unknown as { remote?: { close?: { error?: unknown } } }).remote?.close?.error);
      });
      const end = (context: EventContext) => {
        error ??= errorOf((context.connection as unknown as { remote?: { close?: { error?: unknown } } }).remote?.close?.error);
        this.#isClosed = true;
        resolve(error);
      };
      this.connection.on('connection_close', end);
      this.connection.on('disconnected', end);
    });
  }

  /** Opens a connection; rejects if the hub closes it before answering the open. */
  static async open(options: AmqpPeerOptions, timeoutMs = 10_000): Promise<AmqpPeer> {
    const peer = new AmqpPeer(options);
    const opened = new Promise<void>((resolve) => peer.connection.once('connection_open', () => resolve()));
    const outcome = await within(
      Promise.race([opened.then(() => 'open' as const), peer.closed.then((error) => ({ error }))]),
      timeoutMs,
      'timeout' as const,
    );
    if (outcome !== 'open') {
      peer.close();
      throw new Error(`AMQP connection did not open: ${JSON.stringify(outcome)}`);
    }
    return peer;
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  #attach<L extends Sender | Receiver>(link: L, role: 'sender' | 'receiver'): AttachedLink<L> {
    const opened = new Promise<void>((resolve) => link.once(`${role}_open`, () => resolve()));
    const detached = new Promise<AmqpErrorInfo | undefined>((resolve) => {
      link.on(`${role}_error`, () => {});
      link.once(`${role}_close`, (context: EventContext) => {
        const remote = (context[role] as unknown as { remote?: { detach?: { error?: unknown } } }).remote;
        resolve(errorOf(remote?.detach?.error));
      });
      void this.closed.then(resolve);
    });
    return { link, opened, detached };
  }

  /** Attaches a sender (the hub receives) to `address`. */
  attachSender(address: string, options: Record<string, unknown> = {}): AttachedLink<Sender> {
    return this.#attach(this.connection.open_sender({ target: { address }, ...options } as never), 'sender');
  }

  /** Attaches a receiver (the hub sends) from `address`. */
  attachReceiver(address: string, options: Record<string, unknown> = {}): AttachedLink<Receiver> {
    return this.#attach(this.connection.open_receiver({ source: { address }, ...options } as never), 'receiver');
  }

  /** Sends on `sender` and resolves with the hub's disposition (or how the link or connection ended). */
  send(attached: AttachedLink<Sender>, message: Message): Promise<DeliveryOutcome> {
    const { link: sender } = attached;
    return new Promise((resolve) => {
      const send = () => {
        const delivery: Delivery = sender.send(message);
        const settle = (state: DeliveryOutcome['state']) => (context: EventContext) => {
          if (context.delivery !== delivery) return;
          const remote = (delivery as unknown as { remote_state?: { error?: unknown } }).remote_state;
          resolve(state === 'rejected' ? { state, ...withError(errorOf(remote?.error)) } : ({ state } as DeliveryOutcome));
        };
        for (const state of ['accepted', 'rejected', 'released', 'modified'] as const) sender.on(state, settle(state));
        void attached.detached.then((error) => resolve({ state: this.#isClosed ? 'disconnected' : 'detached', ...withError(error) }));
      };
      if (sender.sendable()) send();
      else sender.once('sendable', send);
      void attached.detached.then((error) => resolve({ state: this.#isClosed ? 'disconnected' : 'detached', ...withError(error) }));
    });
  }

  /**
   * A CBS put-token (digest §5.2) as the IoT SDKs send it: `$cbs` sender and receiver in this
   * connection, `reply_to: 'cbs'`; resolves with the reply's `status-code` and description.
   */
  async putToken(audience: string, token: string, timeoutMs = 10_000): Promise<{ statusCode: unknown; description: unknown }> {
    if (!this.#cbs) {
      const pending = new Map<string, (reply: { statusCode: unknown; description: unknown }) => void>();
      const sender = this.connection.open_sender({ target: { address: '$cbs' } } as never);
      const receiver = this.connection.open_receiver({ source: { address: '$cbs' } } as never);
      receiver.on('message', (context: EventContext) => {
        const reply = context.message!;
        const properties = (reply.application_properties ?? {}) as Record<string, unknown>;
        pending.get(String(reply.correlation_id))?.({ statusCode: properties['status-code'], description: properties['status-description'] });
      });
      this.#cbs = { sender, receiver, pending };
    }
    const messageId = crypto.randomUUID();
    const replied = new Promise<{ statusCode: unknown; description: unknown }>((resolve) => this.#cbs!.pending.set(messageId, resolve));
    const request: Message = {
      to: '$cbs',
      message_id: messageId,
      reply_to: 'cbs',
      application_properties: { operation: 'put-token', type: 'servicebus.windows.net:sastoken', name: audience },
      body: token,
    };
    const { sender } = this.#cbs;
    if (sender.sendable()) sender.send(request);
    else sender.once('sendable', () => sender.send(request));
    const reply = await within(replied, timeoutMs, undefined);
    if (!reply) throw new Error(`no CBS reply for ${audience}`);
    return reply;
  }

  close(): void {
    try {
      if (!this.#isClosed) this.connection.close();
    } catch {}
  }
}

function withError(error: AmqpErrorInfo | undefined): { error?: AmqpErrorInfo } {
  return error ? { error } : {};
}

/** The audience a device puts its token on: the token's `sr`, as sent (URL-encoded). */
export const audienceOf = (token: string): string => /[?&\s]sr=([^&]+)/.exec(token)![1]!;

/**
 * A raw TLS connection: writes `chunks` and resolves when the hub closes it, when `until` holds
 * for what it sent, or after `timeoutMs`, with everything received.
 */
export function rawTlsSession(
  options: { host?: string; port: number; ca: string; servername?: string },
  chunks: Uint8Array[],
  { timeoutMs = 5000, until }: { timeoutMs?: number; until?: (received: Buffer) => boolean } = {},
): Promise<{ received: Buffer; isClosedByHub: boolean }> {
  return new Promise((resolve) => {
    const received: Buffer[] = [];
    let done = false;
    const finish = (isClosedByHub: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(received), isClosedByHub });
    };
    const socket = tls.connect(
      { host: options.host ?? 'localhost', port: options.port, ca: options.ca, servername: options.servername ?? 'localhost' },
      () => {
        for (const chunk of chunks) socket.write(chunk);
      },
    );
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (data: Buffer) => {
      received.push(data);
      if (until?.(Buffer.concat(received))) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
  });
}

/** The 8-byte AMQP protocol header: id 0 = AMQP, 3 = SASL. */
export const amqpHeader = (protocolId: 0 | 3): Buffer => Buffer.from([0x41, 0x4d, 0x51, 0x50, protocolId, 1, 0, 0]);

/** A SASL-INIT frame (AMQP 1.0 §5.3.3.2) for `mechanism`, with an empty initial response. */
export function saslInitFrame(mechanism: string, hostname = 'localhost'): Buffer {
  const symbol = Buffer.from(mechanism, 'ascii');
  const host = Buffer.from(hostname, 'utf8');
  const fields = Buffer.concat([
    Buffer.from([0xa3, symbol.length]),
    symbol,
    Buffer.from([0xa0, 0]), // initial-response: empty binary
    Buffer.from([0xa1, host.length]),
    host,
  ]);
  const body = Buffer.concat([Buffer.from([0x00, 0x53, 0x41, 0xc0, fields.length + 1, 3]), fields]);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length, 0);
  header.writeUInt8(2, 4); // doff
  header.writeUInt8(1, 5); // SASL frame
  return Buffer.concat([header, body]);
}

/** The code of the first SASL-OUTCOME frame in `bytes` (0 ok, 1 auth, 2 sys, …), or undefined. */
export function saslOutcomeCode(bytes: Buffer): number | undefined {
  for (let i = 0; i + 5 < bytes.length; i++) {
    if (bytes[i] !== 0x00 || bytes[i + 1] !== 0x53 || bytes[i + 2] !== 0x44) continue;
    let offset = i + 3;
    const list = bytes[offset];
    if (list === 0xc0) offset += 3;
    else if (list === 0xd0) offset += 9;
    else continue;
    if (bytes[offset] === 0x50) return bytes[offset + 1];
  }
  return undefined;
}
