/**
 * The Event Hubs `$management` node (wire digest §9 step 4): READ requests for the hub's and a
 * partition's runtime properties, authorised by the request's `security_token` (or a CBS claim),
 * answered on the client's `$management` receiver link. Request and reply shapes are
 * management.ts's; AMQP conditions come from the adapter's error mapper.
 * @module
 */

import { HubError, isHubError, unauthorizedAccess } from '@tributary/core';
import type { EventContext, Message, Sender } from 'rhea';
import type { AmqpConnectionState } from '../connection-state.ts';
import type { AmqpAdapterDeps } from '../deps.ts';
import { amqpErrorFor } from '../errors.ts';
import { audienceCovers } from './addresses.ts';
import {
  hubProperties,
  managementErrorResponse,
  managementResponse,
  parseManagementRequest,
  partitionProperties,
  type ManagementRequest,
  type MessageId,
} from './management.ts';

/** The client's `$management` receivers (our senders) per connection, newest last. */
const replySenders = new WeakMap<AmqpConnectionState, Sender[]>();

/**
 * What `created_at` reports: the first time this hub process answered a management request (about
 * the hub's start). The hub keeps no creation time of its own to give; the SDK only shows it.
 */
const createdAtByDeps = new WeakMap<AmqpAdapterDeps, number>();

/** The client attached a receiver on `$management`: replies to its requests go there. */
export function openManagementReplySender(sender: Sender, state: AmqpConnectionState): void {
  const senders = (replySenders.get(state) ?? []).filter((candidate) => !candidate.is_closed());
  senders.push(sender);
  replySenders.set(state, senders);
}

/**
 * One request on the client's `$management` sender. The delivery is accepted at once; the answer
 * (or a failure with `status-code` 400, 401, 404 or 500) goes out correlated by the request's
 * `message_id`, on the receiver whose target address is the request's `reply_to` (the SDK names
 * its receiver's target after it) or, failing that, the newest `$management` receiver.
 */
export async function handleManagementRequest(context: EventContext, state: AmqpConnectionState, deps: AmqpAdapterDeps): Promise<void> {
  const message = context.message!;
  context.delivery?.accept();
  const messageId = message.message_id;
  let response: Message;
  try {
    const request = parseManagementRequest(message);
    response = managementResponse(request.messageId, await answer(request, state, deps));
  } catch (error) {
    if (messageId === undefined || messageId === null) {
      deps.logger.warn('amqp_management_request_dropped', { connId: state.id, reason: 'no message_id to correlate a reply with' });
      return;
    }
    response = failure(messageId as MessageId, error, deps);
  }
  const replyTo = typeof message.reply_to === 'string' ? message.reply_to : undefined;
  if (replyTo !== undefined) response.to = replyTo;
  const sender = replySender(state, replyTo);
  if (!sender) {
    deps.logger.warn('amqp_management_reply_dropped', { connId: state.id, reason: 'no $management receiver link', replyTo });
    return;
  }
  sender.send(response);
}

async function answer(request: ManagementRequest, state: AmqpConnectionState, deps: AmqpAdapterDeps): Promise<Record<string, unknown>> {
  if (request.name.toLowerCase() !== deps.eventHubName.toLowerCase()) {
    // @azure/core-amqp recognises this wording as MessagingEntityNotFoundError.
    throw new HubError('GenericNotFound', `The messaging entity 'sb://${deps.hostName}/${request.name}' could not be found`);
  }
  await authorize(request, state, deps);
  const partitionCount = deps.events.partitionCount;
  if (request.type === 'eventhub') {
    return hubProperties({
      name: deps.eventHubName,
      createdAtMs: createdAt(deps),
      partitionIds: Array.from({ length: partitionCount }, (_, id) => String(id)),
    });
  }
  if (request.partitionId >= partitionCount) {
    throw new HubError('GenericNotFound', `Partition '${request.partitionId}' could not be found: the hub has ${partitionCount} partitions`);
  }
  const heads = await deps.eventStore.partitionHeads(partitionCount);
  const head = heads.find((candidate) => candidate.partitionId === request.partitionId);
  if (!head) throw new Error(`partitionHeads returned no head for partition ${request.partitionId}`);
  return partitionProperties(deps.eventHubName, head);
}

/**
 * The SDK sends `security_token` (a SAS for `sb://host/{entity}`) on every request, after a CBS
 * put-token for `sb://host/{entity}/$management`; either suffices. A token that is present must
 * verify, whatever the connection proved before.
 */
async function authorize(request: ManagementRequest, state: AmqpConnectionState, deps: AmqpAdapterDeps): Promise<void> {
  if (request.securityToken !== undefined) {
    await deps.authorizeEventHubs(request.securityToken, `sb://${deps.hostName}/${deps.eventHubName}`);
    return;
  }
  const now = deps.clock.now();
  for (const claim of state.claims.values()) {
    if (claim.kind === 'eventHubs' && claim.expiresAtMs > now && audienceCovers(claim.audience, { kind: 'management' }, deps.eventHubName)) return;
  }
  throw unauthorizedAccess(`The request has no security_token and no put-token on this connection covers 'sb://${deps.hostName}/${deps.eventHubName}/$management'`);
}

/** A HubError answers with its status and condition; anything else is a bug: logged, answered 500. */
function failure(messageId: MessageId, error: unknown, deps: AmqpAdapterDeps): Message {
  if (!isHubError(error)) deps.logger.error('amqp_management_request_failed', { error });
  const { condition, description } = amqpErrorFor(error);
  return managementErrorResponse(messageId, { status: isHubError(error) ? error.status : 500, description, condition });
}

function replySender(state: AmqpConnectionState, replyTo: string | undefined): Sender | undefined {
  const open = (replySenders.get(state) ?? []).filter((sender) => sender.is_open());
  if (replyTo !== undefined) {
    const named = open.find((sender) => targetOf(sender) === replyTo || sender.name === replyTo);
    if (named) return named;
  }
  return open[open.length - 1];
}

function targetOf(sender: Sender): string | undefined {
  return (sender as unknown as { remote?: { attach?: { target?: { address?: string } } } }).remote?.attach?.target?.address;
}

function createdAt(deps: AmqpAdapterDeps): number {
  let createdAtMs = createdAtByDeps.get(deps);
  if (createdAtMs === undefined) {
    createdAtMs = deps.clock.now();
    createdAtByDeps.set(deps, createdAtMs);
  }
  return createdAtMs;
}
