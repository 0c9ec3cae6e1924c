/**
 * The Event Hub-compatible endpoint's link addresses and CBS audiences (wire digest §9): which
 * partition, `$management` or `$cbs` a link names, the audience a client puts a token on for it,
 * and whether a proven audience covers a link. Token verification is core's
 * (`verifyEventHubsToken`); consumer group existence and partition range are the link handler's.
 * @module
 */

import { DEFAULT_CONSUMER_GROUP } from '@tributary/core';

export type EventHubsAddress =
  | { kind: 'partition'; consumerGroup: string; partitionId: number }
  | { kind: 'management' }
  | { kind: 'cbs' };

/** Both spellings of the segment names are accepted: Azure treats entity paths case-insensitively. */
const PARTITION_PATH = /^([^/]+)\/consumergroups\/([^/]+)\/partitions\/([^/]+)$/i;
const MANAGEMENT_PATH = /^(?:([^/]+)\/)?\$management$/i;
const PARTITION_ID = /^(0|[1-9][0-9]{0,5})$/;
const SB_URI = /^sb:\/\/[^/]+(?:\/(.*))?$/i;

/**
 * What an Event Hubs client attaches to, or undefined when the address is not one of ours:
 * `{entity}/ConsumerGroups/{cg}/Partitions/{p}` (receivers), `$management` or
 * `{entity}/$management`, and `$cbs`. `entityName` is the hub's Event Hub-compatible name;
 * entity and segment names match case-insensitively. The default consumer group is returned as
 * `$Default` however it was spelt (the SDK falls back to `$default`); other names are returned
 * as sent. A partition id must be a decimal integer; whether it exists is for the caller.
 * @example
 * parseEventHubsAddress('myhub/ConsumerGroups/$Default/Partitions/3', 'myhub')
 * // → { kind: 'partition', consumerGroup: '$Default', partitionId: 3 }
 */
export function parseEventHubsAddress(address: string | undefined, entityName: string): EventHubsAddress | undefined {
  if (address === undefined) return undefined;
  const path = trimSlashes(address);
  if (path === '$cbs') return { kind: 'cbs' };
  return parseEntityPath(path, entityName);
}

/**
 * The audience a client proves with a CBS put-token before attaching to `address`, as
 * @azure/event-hubs builds it: `sb://{endpoint}/{entity}/$management` and
 * `sb://{endpoint}/{entity}/ConsumerGroups/{cg}/Partitions/{p}`. `endpoint` is `host[:port]` as
 * the client's connection string names it. `$cbs` needs none (undefined).
 */
export function audienceFor(address: EventHubsAddress, endpoint: string, entityName: string): string | undefined {
  const path = resourcePath(address, entityName);
  return path === undefined ? undefined : `sb://${endpoint}/${path}`;
}

/**
 * True when a proven CBS audience (already verified for this hub by `verifyEventHubsToken`, which
 * checks the host) grants a link to `address`. The audience's host and port are ignored, since a
 * client may reach the hub on several ports. Its path must be a prefix, in whole segments and
 * case-insensitively, of the link's resource path: `sb://h/` and `sb://h/hub` cover every link of
 * `hub`, `sb://h/hub/$management` only `$management`, a partition audience only that consumer
 * group and partition.
 */
export function audienceCovers(audience: string, address: EventHubsAddress, entityName: string): boolean {
  if (address.kind === 'cbs') return true;
  const match = SB_URI.exec(audience);
  if (!match) return false;
  const granted = segmentsOf(match[1] ?? '');
  const needed = segmentsOf(resourcePath(address, entityName)!);
  return granted.length <= needed.length && granted.every((segment, i) => segment === needed[i]);
}

function resourcePath(address: EventHubsAddress, entityName: string): string | undefined {
  if (address.kind === 'management') return `${entityName}/$management`;
  if (address.kind === 'partition') return `${entityName}/ConsumerGroups/${address.consumerGroup}/Partitions/${address.partitionId}`;
  return undefined;
}

function parseEntityPath(path: string, entityName: string): EventHubsAddress | undefined {
  const management = MANAGEMENT_PATH.exec(path);
  if (management) {
    const entity = management[1];
    return entity === undefined || sameName(entity, entityName) ? { kind: 'management' } : undefined;
  }
  const partition = PARTITION_PATH.exec(path);
  if (!partition || !sameName(partition[1]!, entityName)) return undefined;
  const [, , consumerGroup, partitionText] = partition;
  if (!PARTITION_ID.test(partitionText!)) return undefined;
  return {
    kind: 'partition',
    consumerGroup: sameName(consumerGroup!, DEFAULT_CONSUMER_GROUP) ? DEFAULT_CONSUMER_GROUP : consumerGroup!,
    partitionId: Number(partitionText),
  };
}

function segmentsOf(path: string): string[] {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) => segment.toLowerCase());
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}
