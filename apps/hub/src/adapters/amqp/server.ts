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
import { FrameSizeGuard, MAX_FRAME_BYTES } from './frame-size-guard.ts';
import { handleManagementRequest, openManagementReplySender } from './event-hubs/management-link.ts';
import { closePartitionSenders, openPartitionSender } from './event-hubs/partition-link.ts';
import { parseEventHubsAddress } from './event-hubs/addresses.ts';
import { openFeedbackSender } from './links/feedback.ts';
import { openFileNotificationSender } from './links/file-notifications.ts';
import { handleMethodResponse, openMethodsSender } from './links/methods.ts';
import { handleServiceC2dSend } from './links/service-c2d.ts';
import { handleTelemetryMessage } from './links/telemetry.ts';
import { handleTwinRequest, openTwinSender } from './links/twin.ts';

/** What a link of ours is for, so messages on it reach the right handler. */
type Route =
  | { kind: 'cbs' }
  | { kind: 'telemetry'; binding: DeviceBinding }
  | { kind: 'twinRequests'; binding: DeviceBinding }
  | { kind: 'methodResponses'; binding: DeviceBinding }
  | { kind: 'c2dSend' }
  | { kind: 'management' };

const notFound = (address: string) => ({ condition: 'amqp:not-found', description: `No node at address '${address}'` });

/**
 * Created before storage opens (so ports bind first); `ready(deps)` makes it serve. Connections
 * that arrive before then, or after `stop()`, are closed at once.
 */
export class AmqpServer {
  readonly container: Container;
  #readyDeps: AmqpAdapterDeps | undefined;
  readonly #states = new WeakMap<Connection, AmqpConnectionState>();
  /** Routes are stored as promises: a message may arrive before its link's route is settled. */
  readonly #routes = new WeakMap<Receiver | Sender, Promise<Route | undefined>>();
  readonly #connections = new Set<Connection>();
  #nextConnectionId = 1;

  constructor() {
    // Receivers settle by hand: telemetry is accepted only after it is committed.
    this.container = rhea.create_container({ id: 'tributary', autoaccept: false, max_frame_size: MAX_FRAME_BYTES } as never);
    this.container.sasl_server_mechanisms.enable_anonymous();
    // SASL PLAIN is how DPS devices with symmetric keys authenticate (user `{idScope}/registrations/{id}`,
    // password a SAS token). Offered so their negotiation completes, and refused with a reason until
    // the hub has a provisioning service to verify registrations against.
    this.container.sasl_server_mechanisms.enable_plain((username: string) => {
      this.#readyDeps?.logger.info('amqp_sasl_plain_refused', { username, reason: 'no provisioning service in this hub yet' });
      return false;
    });
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

  /** Stops serving: open connections are closed (their device sessions close with them). */
  stop(): void {
    this.#readyDeps = undefined;
    for (const connection of this.#connections) connection.close({ condition: 'amqp:connection:forced', description: 'The hub is shutting down' });
  }

  /** AMQP over WebSocket (subprotocol AMQPWSB10): rhea drives the socket through a shim. */
  acceptWebSocket(socket: RheaWebSocket): void {
    // The frame-size guard sits between the WebSocket and rhea.
    const guard = new FrameSizeGuard();
    const guarded: RheaWebSocket = {
      url: socket.url,
      send: (bytes) => socket.send(bytes),
      close: () => socket.close(),
      onmessage: null,
      onclose: null,
      onerror: null,
    };
    socket.onmessage = (event) => {
      const violation = guard.inspect(event.data);
      if (violation) {
        this.#readyDeps?.logger.warn('amqp_frame_refused', { reason: violation });
        return socket.close();
      }
      guarded.onmessage?.(event);
    };
    socket.onclose = () => guarded.onclose?.();
    socket.onerror = (error) => guarded.onerror?.(error);
    this.container.websocket_accept(guarded as never, {} as never);
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
    this.#connections.add(connection);
    return state;
  }

  async #closed(connection: Connection): Promise<void> {
    this.#connections.delete(connection);
    const state = this.#states.get(connection);
    if (!state) return;
    this.#states.delete(connection);
    closePartitionSenders(state);
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
    const pending = this.#routeFor(context, address, target?.address ?? '');
    this.#routes.set(receiver, pending);
    pending.catch(() => {});
    if (!(await pending)) receiver.close(notFound(target?.address ?? ''));
  }

  /** The client attached a receiver; we send from the source address. */
  async #senderOpened(context: EventContext): Promise<void> {
    const sender = context.sender!;
    const source = (sender as unknown as { remote: { attach: { source?: { address?: string } } } }).remote.attach.source;
    sender.set_source((source ?? {}) as never);
    const state = this.#state(context.connection);
    const eventHubs = parseEventHubsAddress(source?.address ?? '', this.#deps.eventHubName);
    if (eventHubs?.kind === 'partition') return openPartitionSender(context, sender, eventHubs, state, this.#deps);
    if (eventHubs?.kind === 'management') return openManagementReplySender(sender, state);
    const address = parseLinkAddress(source?.address);
    if (address.kind === 'cbs') return;
    if (address.kind === 'device') {
      const binding = await bindDevice(state, address.deviceId, address.moduleId, this.#deps);
      switch (address.purpose) {
        case 'c2d':
          binding.c2dSender = sender;
          binding.session.enableC2d();
          return;
        case 'twin':
          return openTwinSender(binding, sender);
        case 'methods':
          return openMethodsSender(binding, sender);
        case 'telemetry':
          // A module's receiver on its own events address is its input link (§5.3). It is
          // accepted and held; messages reach module inputs once routing delivers to them.
          if (address.moduleId !== null) {
            binding.inputsSender = sender;
            return;
          }
          break;
      }
    }
    if (address.kind === 'service' && address.purpose === 'feedback') {
      this.#requireService(state);
      return openFeedbackSender(sender, this.#deps);
    }
    if (address.kind === 'service' && address.purpose === 'fileNotifications') {
      this.#requireService(state);
      return openFileNotificationSender(sender, this.#deps);
    }
    sender.close(notFound(source?.address ?? ''));
  }

  #requireService(state: AmqpConnectionState): void {
    const claim = state.serviceClaim();
    if (!claim || !claim.principal.rights.some((right) => right === 'ServiceConnect')) {
      throw unauthorizedAccess('No put-token on this connection grants ServiceConnect');
    }
  }

  async #routeFor(context: EventContext, address: LinkAddress, targetAddress: string): Promise<Route | undefined> {
    const state = this.#state(context.connection);
    if (parseEventHubsAddress(targetAddress, this.#deps.eventHubName)?.kind === 'management') return { kind: 'management' };
    if (address.kind === 'cbs') return { kind: 'cbs' };
    if (address.kind === 'device') {
      const binding = await bindDevice(state, address.deviceId, address.moduleId, this.#deps);
      if (address.purpose === 'telemetry') return { kind: 'telemetry', binding };
      if (address.purpose === 'twin') return { kind: 'twinRequests', binding };
      if (address.purpose === 'methods') return { kind: 'methodResponses', binding };
      return undefined;
    }
    if (address.kind === 'service' && address.purpose === 'c2dSend') {
      this.#requireService(state);
      return { kind: 'c2dSend' };
    }
    return undefined;
  }

  async #message(context: EventContext): Promise<void> {
    let route: Route | undefined;
    try {
      route = await this.#routes.get(context.receiver!);
    } catch (error) {
      return void context.delivery?.reject(amqpErrorFor(error));
    }
    if (!route) return void context.delivery?.reject({ condition: 'amqp:not-allowed', description: 'The link was refused' });
    switch (route.kind) {
      case 'cbs':
        return handleCbsRequest(context, this.#state(context.connection), this.#deps);
      case 'telemetry':
        return handleTelemetryMessage(context, route.binding);
      case 'twinRequests':
        return handleTwinRequest(context, route.binding);
      case 'methodResponses':
        return handleMethodResponse(context, route.binding);
      case 'c2dSend':
        return handleServiceC2dSend(context, this.#deps);
      case 'management':
        return handleManagementRequest(context, this.#state(context.connection), this.#deps);
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
  // Beside rhea's own reader, each socket's frames are checked against the size limit.
  listener.on(options.tls ? 'secureConnection' : 'connection', (socket: import('node:net').Socket) => {
    const guard = new FrameSizeGuard();
    socket.on('data', (chunk: Buffer) => {
      const violation = guard.inspect(chunk);
      if (violation) socket.destroy(new Error(violation));
    });
  });
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
