/**
 * The WebSockets of the HTTP(S) listeners, of two kinds:
 * - `GET /$iothub/websocket` carries the raw MQTT byte stream (subprotocol `mqtt`) or AMQP
 *   (`AMQPWSB10`), digest §1.4.
 *   Bun echoes the client's first offered subprotocol unless told otherwise, and the `ws` client
 *   aborts when the echo differs, so the chosen one is set explicitly.
 * - `GET /events/live` (see live-events-socket.ts) sends committed events as JSON messages.
 * @module
 */

import type { Server, ServerWebSocket, WebSocketHandler } from 'bun';
import type { EventPipeline, EventRecord } from '@tributary/core';
import type { ByteStream } from '../adapters/mqtt/byte-stream.ts';
import type { ClientConnection } from './client-connection.ts';
import { MqttConnection } from '../adapters/mqtt/connection.ts';
import type { MqttAdapterDeps } from '../adapters/mqtt/deps.ts';
import { eventJson } from '../service-api/representation/event-json.ts';

export const IOTHUB_WEBSOCKET_PATH = '/$iothub/websocket';
/** A live-events client this far behind (bytes queued) is disconnected instead of buffered without bound. */
export const MAX_LIVE_EVENTS_BUFFER_BYTES = 8 * 1024 * 1024;

interface MqttSocketData {
  kind: 'mqtt';
  connection?: MqttConnection;
  client: ClientConnection;
  deps: MqttAdapterDeps;
}

export interface LiveEventsSocketData {
  kind: 'liveEvents';
  pipeline: EventPipeline;
  isWanted(event: EventRecord): boolean;
  unsubscribe?: () => void;
}

/** AMQP over WebSocket (subprotocol AMQPWSB10): the socket is handed to rhea through a shim. */
export interface AmqpSocketData {
  kind: 'amqp';
  accept(socket: RheaWebSocket): void;
  shim?: RheaWebSocket;
}

/** What rhea's `websocket_accept` drives: send/close plus the browser-style event slots. */
export interface RheaWebSocket {
  url: string;
  send(data: Uint8Array): void;
  close(): void;
  onmessage: ((event: { data: Uint8Array }) => void) | null;
  onclose: (() => void) | null;
  onerror: ((error: unknown) => void) | null;
}

export type WebSocketData = MqttSocketData | LiveEventsSocketData | AmqpSocketData;

class WebSocketStream implements ByteStream {
  readonly remoteAddress: string;
  readonly transport: string;
  /** X.509 devices authenticate over WSS by the certificate they presented to the TLS front. */
  readonly peerCertificateChain: Uint8Array[];
  constructor(
    private readonly socket: ServerWebSocket<WebSocketData>,
    client: ClientConnection,
  ) {
    this.remoteAddress = client.remoteAddress;
    this.transport = client.isTls ? 'mqtt-wss' : 'mqtt-ws';
    this.peerCertificateChain = client.certificateChain;
  }
  write(bytes: Uint8Array): void {
    // Bun queues what it cannot send yet (-1); 0 means the socket is already closing.
    this.socket.sendBinary(bytes);
  }
  end(): void {
    this.socket.close();
  }
}

export const isIotHubWebSocketRequest = (request: Request) =>
  new URL(request.url).pathname === IOTHUB_WEBSOCKET_PATH && request.headers.get('upgrade')?.toLowerCase() === 'websocket';

/**
 * Upgrades an IoT Hub WebSocket request (see `isIotHubWebSocketRequest`) to MQTT (subprotocol
 * `mqtt`) or AMQP (`AMQPWSB10`), whichever the client offers. Returns undefined once upgraded
 * (Bun then owns the socket), or the refusal to send.
 */
export function upgradeIotHubWebSocket(
  request: Request,
  server: Server<WebSocketData>,
  client: ClientConnection,
  adapters: { mqtt: MqttAdapterDeps; acceptAmqp?: (socket: RheaWebSocket) => void },
): Response | undefined {
  const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  let isUpgraded: boolean;
  if (offered.includes('mqtt')) {
    isUpgraded = server.upgrade(request, {
      headers: { 'Sec-WebSocket-Protocol': 'mqtt' },
      data: { kind: 'mqtt', client, deps: adapters.mqtt },
    });
  } else if (offered.includes('AMQPWSB10') && adapters.acceptAmqp) {
    isUpgraded = server.upgrade(request, {
      headers: { 'Sec-WebSocket-Protocol': 'AMQPWSB10' },
      data: { kind: 'amqp', accept: adapters.acceptAmqp },
    });
  } else {
    return new Response('This endpoint speaks MQTT or AMQP over WebSocket: offer the subprotocol "mqtt" or "AMQPWSB10"', {
      status: 400,
    });
  }
  return isUpgraded ? undefined : new Response('WebSocket upgrade failed', { status: 400 });
}

/** The WebSocket handler of the HTTP(S) listeners; each socket carries what it needs from its upgrade. */
export function createWebSocketHandler(): WebSocketHandler<WebSocketData> {
  return {
    open(socket) {
      const data = socket.data;
      if (data.kind === 'mqtt') {
        data.connection = new MqttConnection(new WebSocketStream(socket, data.client), data.deps);
        return;
      }
      if (data.kind === 'amqp') {
        data.shim = {
          url: 'amqp-over-websocket',
          send: (bytes) => void socket.sendBinary(bytes),
          close: () => socket.close(),
          onmessage: null,
          onclose: null,
          onerror: null,
        };
        data.accept(data.shim);
        return;
      }
      data.unsubscribe = data.pipeline.subscribe((events) => {
        for (const event of events) {
          if (!data.isWanted(event)) continue;
          if (socket.getBufferedAmount() > MAX_LIVE_EVENTS_BUFFER_BYTES) {
            socket.close(1013, 'The client fell too far behind the live feed');
            return;
          }
          socket.send(JSON.stringify(eventJson(event)));
        }
      });
    },
    message(socket, message) {
      const data = socket.data;
      const bytes = typeof message === 'string' ? new TextEncoder().encode(message) : message;
      if (data.kind === 'mqtt') data.connection?.receive(bytes);
      else if (data.kind === 'amqp') data.shim?.onmessage?.({ data: bytes });
    },
    close(socket) {
      const data = socket.data;
      if (data.kind === 'mqtt') data.connection?.transportClosed();
      else if (data.kind === 'amqp') data.shim?.onclose?.();
      else data.unsubscribe?.();
    },
    maxPayloadLength: 1024 * 1024,
    idleTimeout: 0,
  };
}
