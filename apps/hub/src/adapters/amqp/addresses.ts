/**
 * IoT Hub's AMQP link addresses for devices and services (digest §5.3, §8): parsing what a client
 * attaches to. Event Hub-compatible addresses live in event-hubs/addresses.ts.
 * @module
 */

export type DeviceLinkPurpose = 'telemetry' | 'c2d' | 'methods' | 'twin';

export type LinkAddress =
  | { kind: 'cbs' }
  | { kind: 'device'; purpose: DeviceLinkPurpose; deviceId: string; moduleId: string | null }
  | { kind: 'service'; purpose: 'c2dSend' | 'feedback' | 'fileNotifications' }
  | { kind: 'unknown' };

const DEVICE = /^\/?devices\/([^/]+)(?:\/modules\/([^/]+))?\/(messages\/events|messages\/devicebound|methods\/devicebound|twin)\/?$/i;

const PURPOSES: Record<string, DeviceLinkPurpose> = {
  'messages/events': 'telemetry',
  'messages/devicebound': 'c2d',
  'methods/devicebound': 'methods',
  twin: 'twin',
};

const decode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * What an attach address names. Device ids in addresses are percent-encoded by the SDKs
 * (encodeURIComponent), so they are decoded here. A module's telemetry address doubles as its
 * input address when a module attaches a receiver to it.
 */
export function parseLinkAddress(address: string | undefined): LinkAddress {
  if (!address) return { kind: 'unknown' };
  if (address === '$cbs') return { kind: 'cbs' };
  const device = DEVICE.exec(address);
  if (device) {
    return {
      kind: 'device',
      purpose: PURPOSES[device[3]!.toLowerCase()]!,
      deviceId: decode(device[1]!),
      moduleId: device[2] === undefined ? null : decode(device[2]),
    };
  }
  const lower = address.toLowerCase().replace(/^\//, '').replace(/\/$/, '');
  if (lower === 'messages/devicebound') return { kind: 'service', purpose: 'c2dSend' };
  if (lower === 'messages/servicebound/feedback') return { kind: 'service', purpose: 'feedback' };
  if (lower === 'messages/servicebound/filenotifications') return { kind: 'service', purpose: 'fileNotifications' };
  return { kind: 'unknown' };
}
