/**
 * The hub's HTTP listeners (sockets only): HTTPS on the bind address and plain HTTP on 127.0.0.1,
 * both serving the same fetch handler with the ClientConnection each request came in on. HTTPS
 * is the TLS front (tls-front.ts) relaying to an HTTP server on a loopback port, so handlers see
 * the client certificate. Owns the rule for the default HTTPS port: 443 when it can be bound,
 * else 8443 with a warning; an explicitly set port that cannot be bound is fatal.
 * @module
 */

import type { Server, WebSocketHandler } from 'bun';
import type { Logger } from '@tributary/core';
import type { ClientConnection } from './client-connection.ts';
import { listenTlsFront, type TlsFront } from './tls-front.ts';
import type { WebSocketData } from './websocket.ts';

/** Answers a request; undefined after the request was upgraded to a WebSocket. */
export type FetchHandler = (
  request: Request,
  server: Server<WebSocketData>,
  client: ClientConnection,
) => Response | undefined | Promise<Response | undefined>;

export interface Listener {
  readonly port: number;
  stop(closeActiveConnections?: boolean): unknown;
}

export const FALLBACK_HTTPS_PORT = 8443;

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

interface ListenOptions {
  hostname: string;
  port: number;
  fetch: FetchHandler;
  websocket: WebSocketHandler<WebSocketData>;
  /** The connection behind a request (its TCP peer is `address`:`port`). */
  clientOf(peer: { address: string; port: number } | null): ClientConnection;
}

function serve({ hostname, port, fetch, websocket, clientOf }: ListenOptions): Server<WebSocketData> {
  return Bun.serve<WebSocketData>({
    hostname,
    port,
    fetch: ((request: Request, server: Server<WebSocketData>) =>
      fetch(request, server, clientOf(server.requestIP(request)))) as (
      request: Request,
      server: Server<WebSocketData>,
    ) => Response | Promise<Response>,
    websocket,
    maxRequestBodySize: 256 * 1024 * 1024,
    idleTimeout: 120,
  });
}

const plainClient = (peer: { address: string } | null): ClientConnection => ({
  remoteAddress: peer?.address ?? 'unknown',
  isTls: false,
  certificateChain: [],
});

/** The TLS front on `port` relaying to an HTTP server on an ephemeral loopback port. */
function listenTls(options: {
  hostname: string;
  port: number;
  fetch: FetchHandler;
  websocket: WebSocketHandler<WebSocketData>;
  tls: { cert: string; key: string };
}): Listener {
  let front: TlsFront | undefined;
  const server = serve({
    ...options,
    hostname: '127.0.0.1',
    port: 0,
    clientOf: (peer) => {
      const tlsPeer = peer && front?.peerOf(peer.port);
      // A connection straight to the loopback port (not relayed) is plain HTTP, as on HUB_HTTP_PORT.
      return tlsPeer ? { ...tlsPeer, isTls: true } : plainClient(peer);
    },
  });
  try {
    front = listenTlsFront({ hostname: options.hostname, port: options.port, tls: options.tls, upstreamPort: server.port! });
  } catch (error) {
    server.stop(true);
    throw error;
  }
  const tlsFront = front;
  return {
    port: tlsFront.port,
    async stop(closeActiveConnections) {
      tlsFront.stop(closeActiveConnections);
      await server.stop(closeActiveConnections);
    },
  };
}

const reasonOf = (error: unknown) => {
  const code = (error as { code?: string }).code;
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EADDRINUSE') return 'address in use';
  return (error as Error).message;
};

export function listenHttps(
  options: {
    hostname: string;
    port: number;
    isPortExplicit: boolean;
    fetch: FetchHandler;
    websocket: WebSocketHandler<WebSocketData>;
    tls: { cert: string; key: string };
  },
  logger: Logger,
): Listener {
  try {
    return listenTls(options);
  } catch (error) {
    if (options.isPortExplicit) {
      throw new ListenError(`HUB_HTTPS_PORT=${options.port} cannot be bound on ${options.hostname}: ${reasonOf(error)}`);
    }
    logger.warn('https_port_fallback', {
      wanted: options.port,
      using: FALLBACK_HTTPS_PORT,
      reason: reasonOf(error),
      hint:
        'The official service SDK, device HTTPS, file upload and every WebSocket transport only reach port 443. ' +
        'Grant it with `setcap cap_net_bind_service=+ep $(command -v bun)` or run as root, or set HUB_HTTPS_PORT.',
    });
    try {
      return listenTls({ ...options, port: FALLBACK_HTTPS_PORT });
    } catch (fallbackError) {
      throw new ListenError(
        `Neither port ${options.port} (${reasonOf(error)}) nor ${FALLBACK_HTTPS_PORT} (${reasonOf(fallbackError)}) can be bound on ${options.hostname} for HTTPS`,
      );
    }
  }
}

export function listenHttp(options: {
  port: number;
  fetch: FetchHandler;
  websocket: WebSocketHandler<WebSocketData>;
}): Listener {
  try {
    const server = serve({ ...options, hostname: '127.0.0.1', clientOf: plainClient });
    return { port: server.port!, stop: (closeActiveConnections) => server.stop(closeActiveConnections) };
  } catch (error) {
    throw new ListenError(`HUB_HTTP_PORT=${options.port} cannot be bound on 127.0.0.1: ${reasonOf(error)}`);
  }
}
