/**
 * The AMQP 1.0 endpoint as one rhea container: every connection (TLS 5671, WebSocket, optional
 * plain TCP) lands here. One port serves raw AMQP (IoT SDKs, authenticated by CBS put-token),
 * SASL ANONYMOUS (Event Hubs clients) and, later, SASL PLAIN (DPS) — so `require_sasl` stays off.
 * This file owns connection lifecycle and dispatch by link address; each purpose has its module.
 * @module
 */

import { isHubError, unauthorizedAccess, type HubError } from '@tributary/core';
import rhea, { type Connection, type Container, type EventContext, type Receiver, type Sender } from 'rhea';
import { ListenError } from '../../listeners/http-server.ts';
import type { RheaWebSocket } from '../../listeners/websocket.ts';
import { certificateChainOf } from '../../tls/peer-certificates.ts';
import { parseLinkAddress, type LinkAddress } from './addresses.ts';
import { handleCbsRequest } from './cbs.ts';
import { AmqpConnectionState, type DeviceBinding } from './connection-state.ts';
import type { AmqpAdapterDeps } from './deps.ts';
import { bindDevice, c2dLockTokens, closeDeviceBindings } from './device-binding.ts';
import { amqpErrorFor } from './errors.ts';
import { handleTelemetryMessage } from './links/telemetry.ts';

/** What a link of ours is for, so messages on it reach the right handler. */
type Route = { kind: 'cbs' } | { kind: 'telemetry'; binding: DeviceBinding };

const notFound = (address: string) => ({ condition: 'amqp:not-found', description: `No node at address '${address}'` });

/**
 * Created before storage opens (so ports bind first); `ready(deps)` makes it serve. Connections
 * that arrive before then, or after `stop()`, are closed at once.
 */
export class AmqpServer {
  readonly container: Container;
  #readyDeps: AmqpAdapterDeps | undefined;
  readonly #states = new WeakMap<Connection, AmqpConnectionState>();
  readonly #routes = new WeakMap<Receiver | Sender, Route>();
  #nextConnectionId = 1;

  constructor() {
    // Receivers settle by hand: telemetry is accepted only after it is committed.
    this.container = rhea.create_container({ id: 'tributary', autoaccept: false } as never);
    this.container.sasl_server_mechanisms.enable_anonymous();
    this.container.on('connection_open', (context: EventContext) => this.#opened(context.connection));
    this.container.on('receiver_open', (context: EventContext) => this.#guard('receiver_open', context, () => this.#receiverOpened(context)));
    this.container.on('sender_open', (context: EventContext) => this.#guard('sender_open', context, () => this.#senderOpened(context)));
    this.container.on('message', (context: EventContext) => this.#guard('message', context, () => this.#message(context)));
    for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
      this.container.on(outcome, (context: EventContext) => this.#guard(outcome, context, () => this.#settled(context, outcome)));
    }
    for (const event of ['connection_close', 'disconnected'] as const) {
      this.container.on(event, (context: EventContext) => void this.#closed(context.connection));
    }
    this.container.on('error', (error: unknown) => this.#readyDeps?.logger.warn('amqp_container_error', { error }));
  }

  ready(deps: AmqpAdapterDeps): void {
    this.#readyDeps = deps;
  }

  stop(): void {
    this.#readyDeps = undefined;
  }

  /** AMQP over WebSocket (subprotocol AMQPWSB10): rhea drives the socket through a shim. */
  acceptWebSocket(socket: RheaWebSocket): void {
    this.container.websocket_accept(socket as never, {} as never);
  }

  get #deps(): AmqpAdapterDeps {
    if (!this.#readyDeps) throw new Error('The AMQP endpoint is not ready');
    return this.#readyDeps;
  }

  #state(connection: Connection): AmqpConnectionState {
    return this.#states.get(connection) ?? this.#opened(connection);
  }

  #opened(connection: Connection): AmqpConnectionState {
    const existing = this.#states.get(connection);
    if (existing) return existing;
    if (!this.#readyDeps) {
      connection.close({ condition: 'amqp:internal-error', description: 'The hub is starting or stopping' });
    }
    const peer = connection.get_peer_certificate() as Parameters<typeof certificateChainOf>[0];
    const state = new AmqpConnectionState(connection, certificateChainOf(peer), this.#nextConnectionId++);
    this.#states.set(connection, state);
    return state;
  }

  async #closed(connection: Connection): Promise<void> {
    const state = this.#states.get(connection);
    if (!state) return;
    this.#states.delete(connection);
    await closeDeviceBindings(state);
  }

  /** Runs a handler; expected refusals close the link, bugs are logged once and close the connection. */
  #guard(event: string, context: EventContext, work: () => Promise<void> | void): void {
    void (async () => {
      try {
        await work();
      } catch (error) {
        const link = context.receiver ?? context.sender;
        if (isHubError(error)) {
          link?.close(amqpErrorFor(error as HubError));
          return;
        }
        this.#readyDeps?.logger.error('amqp_handler_failed', { event, error });
        context.connection.close({ condition: 'amqp:internal-error', description: 'The hub failed to process the request' });
      }
    })();
  }

  /** The client attached a sender; we receive on the target address. */
  async #receiverOpened(context: EventContext): Promise<void> {
    const receiver = context.receiver!;
    const target = (receiver as unknown as { remote: { attach: { target?: { address?: string } } } }).remote.attach.target;
    receiver.set_target((target ?? {}) as never);
    const address = parseLinkAddress(target?.address);
    const route = await this.#routeFor(context, address, 'receiver');
    if (!route) return receiver.close(notFound(target?.address ?? ''));
    this.#routes.set(receiver, route);
  }

  /** The client attached a receiver; we send from the source address. */
  async #senderOpened(context: EventContext): Promise<void> {
    const sender = context.sender!;
    const source = (sender as unknown as { remote: { attach: { source?: { address?: string } } } }).remote.attach.source;
    sender.set_source((source ?? {}) as never);
    const address = parseLinkAddress(source?.address);
    if (address.kind === 'cbs') return;
    if (address.kind === 'device') {
      const binding = await bindDevice(this.#state(context.connection), address.deviceId, address.moduleId, this.#deps);
      if (address.purpose === 'c2d') {
        binding.c2dSender = sender;
        binding.session.enableC2d();
        return;
      }
    }
    sender.close(notFound(source?.address ?? ''));
  }

  async #routeFor(context: EventContext, address: LinkAddress, _role: 'receiver'): Promise<Route | undefined> {
    if (address.kind === 'cbs') return { kind: 'cbs' };
    if (address.kind === 'device' && address.purpose === 'telemetry') {
      const binding = await bindDevice(this.#state(context.connection), address.deviceId, address.moduleId, this.#deps);
      return { kind: 'telemetry', binding };
    }
    if (address.kind === 'service' && !this.#state(context.connection).serviceClaim()) {
      throw unauthorizedAccess('No put-token on this connection authorises service operations');
    }
    return undefined;
  }

  async #message(context: EventContext): Promise<void> {
    const route = this.#routes.get(context.receiver!);
    if (!route) return void context.delivery?.reject({ condition: 'amqp:not-allowed', description: 'The link is not ready' });
    switch (route.kind) {
      case 'cbs':
        return handleCbsRequest(context, this.#state(context.connection), this.#deps);
      case 'telemetry':
        return handleTelemetryMessage(context, route.binding);
    }
  }

  /** The device settled one of our C2D deliveries. */
  async #settled(context: EventContext, outcome: 'accepted' | 'rejected' | 'released' | 'modified'): Promise<void> {
    const pending = context.delivery ? c2dLockTokens.get(context.delivery) : undefined;
    if (!pending) return;
    c2dLockTokens.delete(context.delivery!);
    const settle = outcome === 'accepted' ? 'complete' : outcome === 'rejected' ? 'reject' : 'abandon';
    try {
      await pending.binding.session.settleC2d(pending.lockToken, settle);
    } catch (error) {
      if (!isHubError(error)) throw error;
      this.#deps.logger.warn('amqp_c2d_settle_failed', { code: (error as HubError).code, reason: (error as HubError).message });
    }
  }
}

/** Listens for AMQP over TLS (or plain TCP without `tls`); resolves once bound. */
export function listenAmqp(
  server: AmqpServer,
  options: { hostname: string; port: number; tls?: { cert: string; key: string }; portVariable: string },
): Promise<{ port: number; close(): Promise<void> }> {
  const listener = server.container.listen({
    host: options.hostname,
    port: options.port,
    ...(options.tls
      ? { transport: 'tls', key: options.tls.key, cert: options.tls.cert, requestCert: true, rejectUnauthorized: false }
      : {}),
  } as never) as unknown as import('node:net').Server;
  return new Promise((resolve, reject) => {
    listener.once('error', (error: Error & { code?: string }) => {
      const reason = error.code === 'EADDRINUSE' ? 'address in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new ListenError(`${options.portVariable}=${options.port} cannot be bound on ${options.hostname}: ${reason}`));
    });
    listener.once('listening', () => {
      const address = listener.address();
      resolve({
        port: typeof address === 'object' && address ? address.port : options.port,
        close: () => new Promise<void>((done) => listener.close(() => done())),
      });
    });
  });
}
