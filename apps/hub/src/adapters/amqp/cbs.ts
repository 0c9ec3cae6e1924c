/**
 * CBS (`$cbs`) put-token (digest §5.2): a client proves a token for an audience; the claim then
 * authorises link attaches on this connection, and a later put-token for the same audience renews
 * it (extending a device session's life). Audiences: a device or module (`host/devices/d[/modules/m]`,
 * URL-encoded as sent), the hub for service clients (`host`), or an Event Hubs entity (`sb://…`).
 * Replies go on the client's `$cbs` receiver link with an integer `status-code`.
 * @module
 */

import { identityKey, isHubError, type HubError } from '@tributary/core';
import type { EventContext, Message, Sender } from 'rhea';
import type { AmqpConnectionState, CbsClaim } from './connection-state.ts';
import type { AmqpAdapterDeps } from './deps.ts';

const DEVICE_AUDIENCE = /^[^/]+\/devices\/([^/]+)(?:\/modules\/([^/]+))?\/?$/i;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

async function claimFor(audience: string, token: string, deps: AmqpAdapterDeps): Promise<CbsClaim> {
  if (audience.toLowerCase().startsWith('sb://')) {
    const verified = await deps.authorizeEventHubs(token, audience);
    return { kind: 'eventHubs', audience, keyName: verified.keyName, expiresAtMs: verified.expiresAtMs };
  }
  const device = DEVICE_AUDIENCE.exec(decode(audience));
  if (device) {
    const identity = await deps.authenticate({
      kind: 'sas',
      deviceId: decode(device[1]!),
      ...(device[2] === undefined ? {} : { moduleId: decode(device[2]) }),
      token,
    });
    return { kind: 'device', identity, expiresAtMs: identity.tokenExpiresAtMs ?? Number.MAX_SAFE_INTEGER };
  }
  const principal = await deps.policyAuthenticator.authenticate(token);
  const expiresAtMs = Number(/[?&]se=(\d+)/.exec(token)?.[1] ?? 0) * 1000;
  return { kind: 'service', principal, expiresAtMs };
}

function reply(context: EventContext, request: Message, status: number, description: string): void {
  const replyLink = context.connection.find_sender((sender: Sender) => sender.source?.address === '$cbs');
  const response: Message = {
    correlation_id: request.message_id as string,
    to: request.reply_to,
    application_properties: { 'status-code': status, 'status-description': description },
    body: null,
  };
  replyLink?.send(response);
}

export async function handleCbsRequest(context: EventContext, state: AmqpConnectionState, deps: AmqpAdapterDeps): Promise<void> {
  const request = context.message!;
  context.delivery?.accept();
  const properties = (request.application_properties ?? {}) as Record<string, unknown>;
  if (properties.operation !== 'put-token') {
    return reply(context, request, 400, `Unsupported CBS operation '${String(properties.operation)}'`);
  }
  const audience = String(properties.name ?? '');
  const token = typeof request.body === 'string' ? request.body : String(request.body ?? '');
  try {
    const claim = await claimFor(audience, token, deps);
    state.claims.set(audience, claim);
    if (claim.kind === 'device') {
      const key = identityKey(claim.identity.deviceId, claim.identity.moduleId);
      const binding = await state.devices.get(key)?.catch(() => undefined);
      if (binding) deps.sessions.renewToken(binding.session, claim.expiresAtMs);
    }
    reply(context, request, 200, 'OK');
  } catch (error) {
    if (!isHubError(error)) throw error;
    deps.logger.info('amqp_put_token_refused', { audience, code: (error as HubError).code, reason: (error as HubError).message });
    reply(context, request, 401, (error as HubError).message);
  }
}
