/**
 * `GET /events/live` as a WebSocket: the same live feed as the Server-Sent Events route (committed
 * events, filtered by `deviceId`/`moduleId`), one JSON message per event, for clients that prefer
 * WebSockets. Authorised like every service request (ServiceConnect, or a console session: the
 * browser's WebSocket sends the cookie, and the Origin check of session-cookie.ts applies).
 * @module
 */

import type { Server } from 'bun';
import { type EventPipeline, isHubError } from '@tributary/core';
import { liveFeedFilter } from '../service-api/representation/event-json.ts';
import type { ServiceAuthenticator } from '../service-api/auth.ts';
import { restErrorResponse } from '../service-api/errors.ts';
import type { WebSocketData } from './websocket.ts';

export const isLiveEventsWebSocketRequest = (request: Request) =>
  new URL(request.url).pathname === '/events/live' && request.headers.get('upgrade')?.toLowerCase() === 'websocket';

export async function upgradeLiveEvents(
  request: Request,
  server: Server<WebSocketData>,
  deps: { pipeline: EventPipeline; authenticator: ServiceAuthenticator },
): Promise<Response | undefined> {
  try {
    await deps.authenticator.authorize(request, ['ServiceConnect']);
  } catch (error) {
    if (isHubError(error)) return restErrorResponse(error);
    throw error;
  }
  const query = new URL(request.url).searchParams;
  const isWanted = liveFeedFilter(query.get('deviceId'), query.get('moduleId'));
  const isUpgraded = server.upgrade(request, { data: { kind: 'liveEvents', pipeline: deps.pipeline, isWanted } });
  return isUpgraded ? undefined : new Response('WebSocket upgrade failed', { status: 400 });
}
