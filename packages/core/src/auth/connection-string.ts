/**
 * Connection strings (wire digest §1.1): the generic `Key=value;...` parser, the typed IoT Hub
 * device/module/service and Event Hub-compatible forms, and their builders. It does not sign tokens.
 * @module
 */

import { argumentInvalid } from '../errors.ts';

// Keys are matched case-insensitively and stored under these spellings; unknown keys keep their own.
const CANONICAL_KEYS = [
  'HostName',
  'DeviceId',
  'ModuleId',
  'SharedAccessKeyName',
  'SharedAccessKey',
  'SharedAccessSignature',
  'x509',
  'GatewayHostName',
  'Endpoint',
  'EntityPath',
  'UseDevelopmentEmulator',
] as const;
const CANONICAL_BY_LOWER = new Map<string, string>(CANONICAL_KEYS.map((k) => [k.toLowerCase(), k]));

/**
 * Splits `Key=value;Key=value` on ';' (empty parts ignored) and each part on its FIRST '=', so
 * base64 values keep their padding. Known keys are matched case-insensitively and stored under
 * their canonical spelling (`hostname` → `HostName`). Throws `ArgumentInvalid` for a part without
 * '=', an empty key, or a key given twice. Messages name keys, never values.
 */
export function parseConnectionString(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  const seen = new Set<string>();
  for (const rawPart of text.split(';')) {
    const part = rawPart.trim();
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw argumentInvalid('Connection string has a part without "="');
    const key = part.slice(0, eq).trim();
    if (key === '') throw argumentInvalid('Connection string has a part with an empty key');
    const lower = key.toLowerCase();
    const canonical = CANONICAL_BY_LOWER.get(lower) ?? key;
    if (seen.has(lower)) throw argumentInvalid(`Connection string has '${canonical}' more than once`);
    seen.add(lower);
    entries.set(canonical, part.slice(eq + 1).trim());
  }
  return entries;
}

export type IotHubConnectionString =
  | {
      kind: 'device';
      hostName: string;
      deviceId: string;
      sharedAccessKey?: string;
      sharedAccessKeyName?: string;
      sharedAccessSignature?: string;
      x509?: boolean;
      gatewayHostName?: string;
    }
  | {
      kind: 'module';
      hostName: string;
      deviceId: string;
      moduleId: string;
      sharedAccessKey?: string;
      sharedAccessSignature?: string;
      gatewayHostName?: string;
    }
  | { kind: 'service'; hostName: string; sharedAccessKeyName: string; sharedAccessKey: string };

/**
 * Parses an IoT Hub connection string into its device, module or service form (digest §1.1).
 * A `DeviceId` makes it a device (or, with `ModuleId`, a module) string that needs exactly one
 * credential; otherwise it is a service/policy string needing `SharedAccessKeyName` and
 * `SharedAccessKey`. Throws `ArgumentInvalid` naming the missing or conflicting key.
 * @example parseIotHubConnectionString('HostName=localhost;DeviceId=d1;SharedAccessKey=AAAA')
 */
export function parseIotHubConnectionString(text: string): IotHubConnectionString {
  const cs = parseConnectionString(text);
  const hostName = required(cs, 'HostName');
  const deviceId = optional(cs, 'DeviceId');
  const moduleId = optional(cs, 'ModuleId');
  const sharedAccessKey = optional(cs, 'SharedAccessKey');
  const sharedAccessKeyName = optional(cs, 'SharedAccessKeyName');
  const sharedAccessSignature = optional(cs, 'SharedAccessSignature');
  const gatewayHostName = optional(cs, 'GatewayHostName');
  const x509 = parseBoolean(cs, 'x509');

  if (deviceId === undefined) {
    if (moduleId !== undefined) throw missing('DeviceId');
    if (sharedAccessKeyName === undefined) {
      throw argumentInvalid("Connection string is missing 'DeviceId' (device) or 'SharedAccessKeyName' (service)");
    }
    return { kind: 'service', hostName, sharedAccessKeyName, sharedAccessKey: required(cs, 'SharedAccessKey') };
  }

  const credentials = [
    sharedAccessKey !== undefined && 'SharedAccessKey',
    sharedAccessSignature !== undefined && 'SharedAccessSignature',
    x509 === true && 'x509',
  ].filter((c): c is string => c !== false);
  if (credentials.length > 1) {
    throw argumentInvalid(`Connection string must have only one of ${credentials.join(', ')}`);
  }
  if (sharedAccessKeyName !== undefined && sharedAccessKey === undefined) {
    throw argumentInvalid("Connection string has 'SharedAccessKeyName' without 'SharedAccessKey'");
  }

  if (moduleId !== undefined) {
    if (x509 === true) throw argumentInvalid("Connection string for a module cannot use 'x509'");
    if (sharedAccessKeyName !== undefined) {
      throw argumentInvalid("Connection string for a module cannot use 'SharedAccessKeyName'");
    }
    if (credentials.length === 0) throw missing('SharedAccessKey');
    return {
      kind: 'module',
      hostName,
      deviceId,
      moduleId,
      ...(sharedAccessKey !== undefined ? { sharedAccessKey } : {}),
      ...(sharedAccessSignature !== undefined ? { sharedAccessSignature } : {}),
      ...(gatewayHostName !== undefined ? { gatewayHostName } : {}),
    };
  }

  if (credentials.length === 0) {
    throw argumentInvalid("Connection string is missing 'SharedAccessKey', 'SharedAccessSignature' or 'x509=true'");
  }
  return {
    kind: 'device',
    hostName,
    deviceId,
    ...(sharedAccessKey !== undefined ? { sharedAccessKey } : {}),
    ...(sharedAccessKeyName !== undefined ? { sharedAccessKeyName } : {}),
    ...(sharedAccessSignature !== undefined ? { sharedAccessSignature } : {}),
    ...(x509 === true ? { x509: true } : {}),
    ...(gatewayHostName !== undefined ? { gatewayHostName } : {}),
  };
}

/** `HostName=..;DeviceId=..;[ModuleId=..;]SharedAccessKey=..`, the string the Azure portal shows for a device or module. */
export function buildDeviceConnectionString(o: {
  hostName: string;
  deviceId: string;
  moduleId?: string;
  sharedAccessKey: string;
}): string {
  return join([
    ['HostName', o.hostName],
    ['DeviceId', o.deviceId],
    ...(o.moduleId !== undefined ? [['ModuleId', o.moduleId] as const] : []),
    ['SharedAccessKey', o.sharedAccessKey],
  ]);
}

/** `HostName=..;SharedAccessKeyName=..;SharedAccessKey=..` for a hub (or DPS) shared access policy. */
export function buildServiceConnectionString(o: {
  hostName: string;
  sharedAccessKeyName: string;
  sharedAccessKey: string;
}): string {
  return join([
    ['HostName', o.hostName],
    ['SharedAccessKeyName', o.sharedAccessKeyName],
    ['SharedAccessKey', o.sharedAccessKey],
  ]);
}

export interface EventHubConnectionString {
  /** As written, e.g. `sb://localhost:25671/`. */
  endpoint: string;
  sharedAccessKeyName?: string;
  sharedAccessKey?: string;
  sharedAccessSignature?: string;
  entityPath?: string;
  useDevelopmentEmulator?: boolean;
}

/**
 * Parses an Event Hub(-compatible) connection string as @azure/event-hubs accepts it: `Endpoint`
 * (an `sb://` URL) plus either `SharedAccessKeyName` and `SharedAccessKey` together, or
 * `SharedAccessSignature`. Throws `ArgumentInvalid` naming the missing or conflicting key.
 */
export function parseEventHubConnectionString(text: string): EventHubConnectionString {
  const cs = parseConnectionString(text);
  const endpoint = required(cs, 'Endpoint');
  if (!/^sb:\/\/[^/]+/i.test(endpoint)) throw argumentInvalid("Connection string 'Endpoint' must be an sb:// URL");
  const sharedAccessKeyName = optional(cs, 'SharedAccessKeyName');
  const sharedAccessKey = optional(cs, 'SharedAccessKey');
  const sharedAccessSignature = optional(cs, 'SharedAccessSignature');
  const entityPath = optional(cs, 'EntityPath');
  const useDevelopmentEmulator = parseBoolean(cs, 'UseDevelopmentEmulator');

  if (sharedAccessSignature !== undefined) {
    if (sharedAccessKey !== undefined || sharedAccessKeyName !== undefined) {
      throw argumentInvalid("Connection string must have either 'SharedAccessSignature' or a shared access key, not both");
    }
  } else {
    if (sharedAccessKeyName === undefined) throw missing('SharedAccessKeyName');
    if (sharedAccessKey === undefined) throw missing('SharedAccessKey');
  }
  return {
    endpoint,
    ...(sharedAccessKeyName !== undefined ? { sharedAccessKeyName } : {}),
    ...(sharedAccessKey !== undefined ? { sharedAccessKey } : {}),
    ...(sharedAccessSignature !== undefined ? { sharedAccessSignature } : {}),
    ...(entityPath !== undefined ? { entityPath } : {}),
    ...(useDevelopmentEmulator !== undefined ? { useDevelopmentEmulator } : {}),
  };
}

/**
 * `Endpoint=sb://host[:port]/;SharedAccessKeyName=..;SharedAccessKey=..;EntityPath=..[;UseDevelopmentEmulator=true]`.
 * `endpoint` may be `host[:port]` or an `sb://` URL; the output always has the `sb://` scheme and a trailing '/'.
 */
export function buildEventHubConnectionString(o: {
  endpoint: string;
  sharedAccessKeyName: string;
  sharedAccessKey: string;
  entityPath: string;
  useDevelopmentEmulator?: boolean;
}): string {
  const url = /^sb:\/\//i.test(o.endpoint) ? o.endpoint : `sb://${o.endpoint}`;
  return join([
    ['Endpoint', url.endsWith('/') ? url : `${url}/`],
    ['SharedAccessKeyName', o.sharedAccessKeyName],
    ['SharedAccessKey', o.sharedAccessKey],
    ['EntityPath', o.entityPath],
    ...(o.useDevelopmentEmulator ? [['UseDevelopmentEmulator', 'true'] as const] : []),
  ]);
}

// A connection string has no escaping, so a ';' inside a value would silently split it.
function join(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs
    .map(([key, value]) => {
      if (value === '') throw argumentInvalid(`Connection string value for '${key}' is empty`);
      if (value.includes(';')) throw argumentInvalid(`Connection string value for '${key}' contains ';'`);
      return `${key}=${value}`;
    })
    .join(';');
}

function optional(cs: Map<string, string>, key: string): string | undefined {
  const value = cs.get(key);
  return value === '' ? undefined : value;
}

function required(cs: Map<string, string>, key: string): string {
  const value = optional(cs, key);
  if (value === undefined) throw missing(key);
  return value;
}

function missing(key: string) {
  return argumentInvalid(`Connection string is missing '${key}'`);
}

function parseBoolean(cs: Map<string, string>, key: string): boolean | undefined {
  const value = optional(cs, key);
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw argumentInvalid(`Connection string '${key}' must be true or false`);
}
