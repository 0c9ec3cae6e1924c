/**
 * Service-side calls tests make against a spawned hub over its REST API: a policy token, reading
 * a device's events from the event stream, sending a cloud-to-device message.
 * @module
 */

import { parseIotHubConnectionString, sasRecipes } from '@tributary/core';
import type { EventJson } from '../../src/service-api/representation/event-json.ts';
import type { SpawnedHub } from './hub-process.ts';

export function serviceToken(hub: SpawnedHub, policy = 'iothubowner'): string {
  const parsed = parseIotHubConnectionString(hub.connectionString(policy));
  if (parsed.kind !== 'service') throw new Error('expected a service connection string');
  return sasRecipes.service(parsed.hostName, parsed.sharedAccessKeyName, parsed.sharedAccessKey, Math.floor(Date.now() / 1000) + 3600);
}

/** An event as the REST API returns it. */
export type StreamedEvent = EventJson;

/** Every event of `deviceId` (and module) in the stream, across partitions, in sequence order. */
export async function readDeviceEvents(hub: SpawnedHub, deviceId: string, moduleId?: string): Promise<StreamedEvent[]> {
  const authorization = serviceToken(hub);
  const partitions = (await (await hub.fetch('/events/partitions', { headers: { authorization } })).json()) as {
    partitionId: string;
    lastEnqueuedSequenceNumber: number;
  }[];
  const events: StreamedEvent[] = [];
  for (const { partitionId, lastEnqueuedSequenceNumber } of partitions) {
    // The device filter applies within each page, so page through the whole partition.
    let next = 0;
    while (next <= lastEnqueuedSequenceNumber) {
      const query = new URLSearchParams({ fromSequenceNumber: String(next), maxCount: '1000', deviceId });
      const response = await hub.fetch(`/events/partitions/${partitionId}?${query}`, { headers: { authorization } });
      if (!response.ok) throw new Error(`reading partition ${partitionId}: ${response.status} ${await response.text()}`);
      const page = (await response.json()) as { events: StreamedEvent[]; nextSequenceNumber: number };
      events.push(...page.events.filter((event) => moduleId === undefined || event.moduleId === moduleId));
      if (page.nextSequenceNumber <= next) break;
      next = page.nextSequenceNumber;
    }
  }
  return events;
}

/** Polls until `predicate` holds for the device's events (the stream is read after PUBACK, so this is short). */
export async function waitForDeviceEvents(
  hub: SpawnedHub,
  deviceId: string,
  predicate: (events: StreamedEvent[]) => boolean,
  timeoutMs = 5000,
): Promise<StreamedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await readDeviceEvents(hub, deviceId);
    if (predicate(events) || Date.now() > deadline) return events;
    await Bun.sleep(50);
  }
}

/** Sends a cloud-to-device message through the service REST API. */
export async function sendCloudToDevice(
  hub: SpawnedHub,
  deviceId: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return hub.fetch(`/devices/${encodeURIComponent(deviceId)}/messages/deviceBound`, {
    method: 'POST',
    headers: { authorization: serviceToken(hub), 'content-type': 'text/plain', ...headers },
    body,
  });
}

/** Registers a device over REST and returns its primary key (for hubs the SDK's 443-only client cannot reach). */
export async function createDeviceOverRest(hub: SpawnedHub, deviceId: string): Promise<string> {
  const response = await hub.fetch(`/devices/${encodeURIComponent(deviceId)}`, {
    method: 'PUT',
    headers: { authorization: serviceToken(hub), 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId }),
  });
  if (!response.ok) throw new Error(`creating ${deviceId}: ${response.status} ${await response.text()}`);
  const device = (await response.json()) as { authentication: { symmetricKey: { primaryKey: string } } };
  return device.authentication.symmetricKey.primaryKey;
}

const identityPath = (deviceId: string, moduleId?: string) =>
  `${encodeURIComponent(deviceId)}${moduleId === undefined ? '' : `/modules/${encodeURIComponent(moduleId)}`}`;

/** Registers a module over REST and returns its primary key. */
export async function createModuleOverRest(hub: SpawnedHub, deviceId: string, moduleId: string): Promise<string> {
  const response = await hub.fetch(`/devices/${identityPath(deviceId, moduleId)}`, {
    method: 'PUT',
    headers: { authorization: serviceToken(hub), 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId, moduleId }),
  });
  if (!response.ok) throw new Error(`creating ${deviceId}/${moduleId}: ${response.status} ${await response.text()}`);
  const module = (await response.json()) as { authentication: { symmetricKey: { primaryKey: string } } };
  return module.authentication.symmetricKey.primaryKey;
}

/** A twin as `GET /twins/{id}[/modules/{m}]` returns it (the fields tests read). */
export interface RestTwin {
  deviceId: string;
  moduleId?: string;
  etag: string;
  version: number;
  properties: { desired: Record<string, any>; reported: Record<string, any> };
}

export async function getTwinOverRest(hub: SpawnedHub, deviceId: string, moduleId?: string): Promise<RestTwin> {
  const response = await hub.fetch(`/twins/${identityPath(deviceId, moduleId)}`, { headers: { authorization: serviceToken(hub) } });
  if (!response.ok) throw new Error(`reading the twin of ${deviceId}: ${response.status} ${await response.text()}`);
  return (await response.json()) as RestTwin;
}

/** `PATCH /twins/{id}[/modules/{m}]` with `If-Match: *` (merges tags and desired properties). */
export async function updateTwinOverRest(
  hub: SpawnedHub,
  deviceId: string,
  patch: Record<string, unknown>,
  moduleId?: string,
): Promise<RestTwin> {
  const response = await hub.fetch(`/twins/${identityPath(deviceId, moduleId)}`, {
    method: 'PATCH',
    headers: { authorization: serviceToken(hub), 'content-type': 'application/json', 'if-match': '*' },
    body: JSON.stringify(patch),
  });
  if (!response.ok) throw new Error(`patching the twin of ${deviceId}: ${response.status} ${await response.text()}`);
  return (await response.json()) as RestTwin;
}

/** `POST /twins/{id}[/modules/{m}]/methods`: the HTTP status and the parsed body. */
export async function invokeMethodOverRest(
  hub: SpawnedHub,
  deviceId: string,
  call: { methodName: string; payload: unknown; responseTimeoutInSeconds?: number; connectTimeoutInSeconds?: number },
  moduleId?: string,
): Promise<{ httpStatus: number; body: any }> {
  const response = await hub.fetch(`/twins/${identityPath(deviceId, moduleId)}/methods`, {
    method: 'POST',
    headers: { authorization: serviceToken(hub), 'content-type': 'application/json' },
    body: JSON.stringify(call),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { httpStatus: response.status, body };
}

/** The device's cloud-to-device queue as `GET /devices/{id}/commands` lists it. */
export async function peekCloudToDevice(
  hub: SpawnedHub,
  deviceId: string,
): Promise<{ messageId: string; deliveryCount: number; lockedUntilUtc: string | null }[]> {
  const response = await hub.fetch(`/devices/${encodeURIComponent(deviceId)}/commands`, { headers: { authorization: serviceToken(hub) } });
  if (!response.ok) throw new Error(`peeking the queue of ${deviceId}: ${response.status} ${await response.text()}`);
  return (await response.json()) as { messageId: string; deliveryCount: number; lockedUntilUtc: string | null }[];
}
