/**
 * `GET /$iothub/websocket` on the HTTP(S) ports: upgrades to a WebSocket carrying the raw MQTT
 * byte stream (subprotocol `mqtt`, digest §1.4). Bun echoes the client's first offered
 * subprotocol unless told otherwise, and the `ws` client aborts when the echo differs, so the
 * chosen one is set explicitly.
 * @module
 */

import type { Server, ServerWebSocket, WebSocketHandler } from 'bun';
import type { ByteStream } from '../adapters/mqtt/byte-stream.ts';
import { MqttConnection } from '../adapters/mqtt/connection.ts';
import type { MqttAdapterDeps } from '../adapters/mqtt/deps.ts';

export const IOTHUB_WEBSOCKET_PATH = '/$iothub/websocket';

export interface WebSocketData {
  connection?: MqttConnection;
  remoteAddress: string;
  transport: string;
  deps: MqttAdapterDeps;
}

class WebSocketStream implements ByteStream {
  readonly peerCertificateChain: Uint8Array[] = [];
  constructor(
    private readonly socket: ServerWebSocket<WebSocketData>,
    readonly remoteAddress: string,
    readonly transport: string,
  ) {}
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
 * Upgrades an IoT Hub WebSocket request (see `isIotHubWebSocketRequest`). Returns undefined once
 * upgraded (Bun then owns the socket), or the refusal to send.
 */
export function upgradeIotHubWebSocket(
  request: Request,
  server: Server<WebSocketData>,
  transport: string,
  deps: MqttAdapterDeps,
): Response | undefined {
  const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  if (!offered.includes('mqtt')) {
    return new Response('This endpoint speaks MQTT over WebSocket: offer the subprotocol "mqtt"', { status: 400 });
  }
  const remoteAddress = server.requestIP(request)?.address ?? 'unknown';
  const isUpgraded = server.upgrade(request, {
    headers: { 'Sec-WebSocket-Protocol': 'mqtt' },
    data: { remoteAddress, transport, deps },
  });
  return isUpgraded ? undefined : new Response('WebSocket upgrade failed', { status: 400 });
}

/** The WebSocket handler of the HTTP(S) listeners; each socket carries its adapter deps from the upgrade. */
export function createWebSocketHandler(): WebSocketHandler<WebSocketData> {
  return {
    open(socket) {
      const { remoteAddress, transport, deps } = socket.data;
      socket.data.connection = new MqttConnection(new WebSocketStream(socket, remoteAddress, transport), deps);
    },
    message(socket, message) {
      socket.data.connection?.receive(typeof message === 'string' ? new TextEncoder().encode(message) : message);
    },
    close(socket) {
      socket.data.connection?.transportClosed();
    },
    maxPayloadLength: 1024 * 1024,
    idleTimeout: 0,
  };
}
