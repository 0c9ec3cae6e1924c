// Cloud-to-device messages through the service REST API: send (properties travel as `iothub-*`
// headers), list the queue and purge it.
import { hubFetch, hubJson, segment } from './hub.ts';
import type { C2dAck, CloudToDeviceMessage } from './types.ts';

export interface C2dSend {
  body: string;
  ack: C2dAck;
  messageId?: string;
  correlationId?: string;
  /** application properties; names are sent lower-cased, as HTTP headers are */
  properties: Record<string, string>;
}

/** Queues a message for `deviceId`; returns the message id the hub assigned or kept. */
export async function sendC2d(deviceId: string, message: C2dSend): Promise<string> {
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'iothub-ack': message.ack };
  if (message.messageId) headers['iothub-messageid'] = message.messageId;
  if (message.correlationId) headers['iothub-correlationid'] = message.correlationId;
  for (const [name, value] of Object.entries(message.properties)) headers[`iothub-app-${name}`] = value;
  const response = await hubFetch(`/devices/${segment(deviceId)}/messages/deviceBound`, { method: 'POST', body: message.body, headers });
  return response.headers.get('iothub-messageid') ?? '';
}

export function listC2dQueue(deviceId: string, signal?: AbortSignal): Promise<CloudToDeviceMessage[]> {
  return hubJson<CloudToDeviceMessage[]>(`/devices/${segment(deviceId)}/commands`, { signal });
}

export async function purgeC2dQueue(deviceId: string): Promise<number> {
  const result = await hubJson<{ totalMessagesPurged: number }>(`/devices/${segment(deviceId)}/commands`, { method: 'DELETE' });
  return result.totalMessagesPurged;
}
