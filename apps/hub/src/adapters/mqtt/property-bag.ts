/**
 * IoT Hub's MQTT property bag (digest §4.4): the `k=v&k=v` tail of a topic carrying system
 * properties (`$.mid`, `$.cid`, … — `$` raw or `%24`) and application properties, both directions.
 * @module
 */

import { argumentInvalid, type DeviceSetSystemProperties, type SystemProperties } from '@tributary/core';

/** Bag keys of device-set system properties and the IoT Hub property each stands for. */
const SYSTEM_KEYS: Record<string, keyof DeviceSetSystemProperties> = {
  '$.mid': 'message-id',
  '$.cid': 'correlation-id',
  '$.uid': 'user-id',
  '$.to': 'to',
  '$.ct': 'content-type',
  '$.ce': 'content-encoding',
  '$.exp': 'absolute-expiry-time',
  '$.ifid': 'iothub-interface-id',
  '$.sub': 'dt-subject',
  '$.on': 'iothub-outputname',
};

export interface ParsedPropertyBag {
  systemProperties: DeviceSetSystemProperties;
  applicationProperties: Record<string, string>;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', '%20'));
  } catch {
    throw argumentInvalid(`The property bag holds a malformed percent-encoding: '${text.slice(0, 64)}'`);
  }
}

/**
 * Parses a property bag: a trailing `/` is ignored, pairs split on `&`, each on its first `=`;
 * a key without `=` has an empty value (IoT Hub reads it as null; properties are strings here).
 */
export function parsePropertyBag(bag: string): ParsedPropertyBag {
  const result: ParsedPropertyBag = { systemProperties: {}, applicationProperties: {} };
  const text = bag.endsWith('/') ? bag.slice(0, -1) : bag;
  if (text === '') return result;
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const systemKey = SYSTEM_KEYS[key];
    if (systemKey) result.systemProperties[systemKey] = value;
    else if (key.startsWith('$.')) continue; // an unknown system key is not an application property
    else result.applicationProperties[key] = value;
  }
  return result;
}

/** System properties a hub sends to devices in a C2D bag, in IoT Hub's order. */
const OUTBOUND_SYSTEM_KEYS: [keyof SystemProperties, string][] = [
  ['message-id', '%24.mid'],
  ['to', '%24.to'],
  ['absolute-expiry-time', '%24.exp'],
  ['correlation-id', '%24.cid'],
  ['user-id', '%24.uid'],
  ['content-type', '%24.ct'],
  ['content-encoding', '%24.ce'],
];

/**
 * Formats a bag for hub → device topics. Every value is percent-encoded, so `/` becomes `%2F`:
 * the SDK splits the topic on `/` and reads the bag from a fixed segment.
 */
export function formatPropertyBag(systemProperties: SystemProperties, applicationProperties: Record<string, string>): string {
  const pairs: string[] = [];
  for (const [property, key] of OUTBOUND_SYSTEM_KEYS) {
    const value = systemProperties[property];
    if (value !== undefined) pairs.push(`${key}=${encodeURIComponent(String(value))}`);
  }
  for (const [key, value] of Object.entries(applicationProperties)) {
    pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`);
  }
  return pairs.join('&');
}
