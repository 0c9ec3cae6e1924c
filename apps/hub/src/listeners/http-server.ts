/**
 * The hub's HTTP listeners (sockets only): HTTPS on the bind address and plain HTTP on 127.0.0.1,
 * both serving the same fetch handler. Owns the rule for the default HTTPS port: 443 when it can
 * be bound, else 8443 with a warning; an explicitly set port that cannot be bound is fatal.
 * @module
 */

import type { Server, WebSocketHandler } from 'bun';
import type { Logger } from '@tributary/core';
import type { WebSocketData } from './websocket.ts';

/** Answers a request; undefined after the request was upgraded to a WebSocket. */
export type FetchHandler = (
  request: Request,
  server: Server<WebSocketData>,
) => Response | undefined | Promise<Response | undefined>;

export const FALLBACK_HTTPS_PORT = 8443;

export class ListenError extends Error {
  override readonly name = 'ListenError';
}

interface ListenOptions {
  hostname: string;
  port: number;
  fetch: FetchHandler;
  websocket: WebSocketHandler<WebSocketData>;
  tls?: { cert: string; key: string };
}

function listen({ hostname, port, fetch, websocket, tls }: ListenOptions): Server<WebSocketData> {
  return Bun.serve<WebSocketData>({
    hostname,
    port,
    fetch: fetch as (request: Request, server: Server<WebSocketData>) => Response | Promise<Response>,
    websocket,
    tls,
    maxRequestBodySize: 256 * 1024 * 1024,
    idleTimeout: 120,
  });
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
): Server<WebSocketData> {
  try {
    return listen(options);
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
      return listen({ ...options, port: FALLBACK_HTTPS_PORT });
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
}): Server<WebSocketData> {
  try {
    return listen({ hostname: '127.0.0.1', port: options.port, fetch: options.fetch, websocket: options.websocket });
  } catch (error) {
    throw new ListenError(`HUB_HTTP_PORT=${options.port} cannot be bound on 127.0.0.1: ${reasonOf(error)}`);
  }
}
