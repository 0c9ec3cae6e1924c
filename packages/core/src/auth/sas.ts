/**
 * Shared Access Signature tokens (wire digest §2): parse, sign, verify, expiry, resource scope and
 * the per-client recipes. It does not look up keys or decide which policy permission a use needs.
 * @module
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { argumentInvalid, unauthorizedAccess } from '../errors.ts';

export interface SasToken {
  /** `sr` exactly as it appears in the token (still URL-encoded for device tokens): the HMAC is computed over this text. */
  signedResource: string;
  /** `sr` percent-decoded: `host/devices/d1`, `host`, `0ne.../registrations/r1`, `sb://host/entity`. */
  resourceUri: string;
  /** decoded `sig` (base64 text) */
  signature: string;
  /** `se`, Unix seconds */
  expiresAtSeconds: number;
  /** decoded `skn`, when present */
  keyName?: string;
}

/**
 * How a key's text becomes HMAC key bytes: IoT Hub and DPS base64-decode it, Event Hubs uses the
 * UTF-8 bytes of the key text as is.
 */
export type KeyEncoding = 'base64' | 'utf8';

/** Clock skew tolerated past `se`; IoT Hub's docs mention about five minutes. */
export const DEFAULT_SAS_SKEW_MS = 5 * 60 * 1000;

const PREFIX = 'SharedAccessSignature';
const KNOWN_FIELDS = new Set(['sr', 'sig', 'se', 'skn']);
// Canonical integer only: the signer signed the `se` text, and we re-sign `String(expiresAtSeconds)`.
const SE_PATTERN = /^(0|[1-9][0-9]*)$/;
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parses a SAS token, with or without the leading `SharedAccessSignature ` prefix. Fields may come
 * in any order (the IoT SDKs emit `sr, sig, skn, se`, Event Hubs `sr, sig, se, skn`); unknown
 * fields are ignored. Throws `IotHubUnauthorizedAccess` naming what is wrong, never echoing the
 * signature.
 */
export function parseSasToken(text: string): SasToken {
  let body = text.trim();
  if (body.startsWith(PREFIX)) {
    const rest = body.slice(PREFIX.length);
    if (!/^\s/.test(rest)) throw unauthorizedAccess('SAS token prefix must be followed by a space');
    body = rest.trimStart();
  }
  if (body === '') throw unauthorizedAccess('SAS token is empty');

  const fields = new Map<string, string>();
  for (const part of body.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw unauthorizedAccess('SAS token has a field without "="');
    const name = part.slice(0, eq);
    if (fields.has(name)) throw unauthorizedAccess(`SAS token has field '${safeFieldName(name)}' more than once`);
    fields.set(name, part.slice(eq + 1));
  }

  const signedResource = requireField(fields, 'sr');
  const rawSig = requireField(fields, 'sig');
  const rawSe = requireField(fields, 'se');
  if (!SE_PATTERN.test(rawSe)) throw unauthorizedAccess("SAS token field 'se' is not an integer number of seconds");
  const expiresAtSeconds = Number(rawSe);
  if (!Number.isSafeInteger(expiresAtSeconds)) throw unauthorizedAccess("SAS token field 'se' is out of range");

  const token: SasToken = {
    signedResource,
    resourceUri: decodeField(signedResource, 'sr'),
    signature: decodeField(rawSig, 'sig'),
    expiresAtSeconds,
  };
  const rawSkn = fields.get('skn');
  if (rawSkn !== undefined) {
    const keyName = decodeField(rawSkn, 'skn');
    if (keyName === '') throw unauthorizedAccess("SAS token field 'skn' is empty");
    token.keyName = keyName;
  }
  return token;
}

/** `base64(HMAC-SHA256(key, signedResource + "\n" + se))`. Throws `ArgumentInvalid` for a key that cannot be decoded. */
export function computeSignature(
  signedResource: string,
  expiresAtSeconds: number,
  key: string,
  keyEncoding: KeyEncoding = 'base64',
): string {
  const keyBytes = keyBytesOf(key, keyEncoding);
  if (!keyBytes) throw argumentInvalid(`The shared access key is not valid ${keyEncoding === 'base64' ? 'base64' : 'text'}`);
  return hmacBase64(keyBytes, `${signedResource}\n${expiresAtSeconds}`);
}

/**
 * True when `token.signature` is the HMAC of its `sr` text and `se` under `key`. Compares in
 * constant time; answers false (never throws) for a key that is empty or not valid base64.
 * Does not check expiry or resource scope: see `isSasExpired` and `resourceCovers`.
 */
export function verifySasSignature(token: SasToken, key: string, keyEncoding: KeyEncoding = 'base64'): boolean {
  const keyBytes = keyBytesOf(key, keyEncoding);
  if (!keyBytes) return false;
  const expected = Buffer.from(hmacBase64(keyBytes, `${token.signedResource}\n${token.expiresAtSeconds}`), 'utf8');
  const given = Buffer.from(token.signature, 'utf8');
  // The length of a SHA-256 base64 text is public (44), so the early return leaks nothing.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

/** True when `se*1000 + skewMs < nowMs`: a token is still accepted for `skewMs` past its `se`. */
export function isSasExpired(token: SasToken, nowMs: number, skewMs: number = DEFAULT_SAS_SKEW_MS): boolean {
  return token.expiresAtSeconds * 1000 + skewMs < nowMs;
}

/**
 * `encodeURIComponent` plus `! ' ( ) *` → `%21 %27 %28 %29 %2a`, byte-for-byte as the IoT SDKs'
 * `encodeUriComponentStrict` (note the lowercase `%2a`).
 */
export function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/**
 * Builds the token string `SharedAccessSignature sr=..&sig=..&skn=..&se=..` in the IoT SDKs' field
 * order (`skn` left out when there is no key name). `signedResource` goes in verbatim, so encode it
 * first where the recipe needs it; `sig` and `skn` are encoded with `encodeStrict`.
 * @example createSasToken({ signedResource: encodeStrict('host/devices/d1'), key, expiresAtSeconds: 1700000000 })
 */
export function createSasToken(opts: {
  signedResource: string;
  key: string;
  expiresAtSeconds: number;
  keyName?: string;
  keyEncoding?: KeyEncoding;
}): string {
  const sig = computeSignature(opts.signedResource, opts.expiresAtSeconds, opts.key, opts.keyEncoding);
  const skn = opts.keyName ? `&skn=${encodeStrict(opts.keyName)}` : '';
  return `${PREFIX} sr=${opts.signedResource}&sig=${encodeStrict(sig)}${skn}&se=${opts.expiresAtSeconds}`;
}

/** Token recipes for each client of digest §2.2; each returns the token string the client would send. */
export const sasRecipes = {
  /** Device token: `sr = encodeStrict(host/devices/{deviceId})`; `skn` only when signed with a hub policy key. */
  device(hostName: string, deviceId: string, key: string, expiresAtSeconds: number, policyKeyName?: string): string {
    return createSasToken({
      signedResource: encodeStrict(`${hostName}/devices/${deviceId}`),
      key,
      expiresAtSeconds,
      ...(policyKeyName ? { keyName: policyKeyName } : {}),
    });
  },
  /** Module token: `sr = encodeStrict(host/devices/{deviceId}/modules/{moduleId})`, no `skn`. */
  module(hostName: string, deviceId: string, moduleId: string, key: string, expiresAtSeconds: number): string {
    return createSasToken({
      signedResource: encodeStrict(`${hostName}/devices/${deviceId}/modules/${moduleId}`),
      key,
      expiresAtSeconds,
    });
  },
  /** Service (or DPS service) policy token: `sr` is the host name raw, not encoded, even with a `:port`. */
  service(hostName: string, keyName: string, key: string, expiresAtSeconds: number): string {
    return createSasToken({ signedResource: hostName, key, expiresAtSeconds, keyName });
  },
  /** DPS device registration token: raw `sr = {idScope}/registrations/{registrationId}`, `skn=registration`. */
  dps(idScope: string, registrationId: string, key: string, expiresAtSeconds: number): string {
    return createSasToken({
      signedResource: `${idScope}/registrations/${registrationId}`,
      key,
      expiresAtSeconds,
      keyName: 'registration',
    });
  },
  /**
   * Event Hubs token as @azure/core-amqp builds it: `sr = encodeURIComponent(sb://host/entity)`,
   * the key's UTF-8 bytes as HMAC key, plain `encodeURIComponent`, field order `sr, sig, se, skn`.
   */
  eventHubs(endpointHost: string, entityPath: string, keyName: string, key: string, expiresAtSeconds: number): string {
    const sr = encodeURIComponent(`sb://${endpointHost}/${entityPath}`);
    const sig = computeSignature(sr, expiresAtSeconds, key, 'utf8');
    return `${PREFIX} sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiresAtSeconds}&skn=${encodeURIComponent(keyName)}`;
  },
};

/**
 * True when the token's resource covers `targetResource` (both decoded). Compares
 * case-insensitively, ignores trailing '/', and matches whole path segments:
 * `host/devices/d1` covers `host/devices/d1/modules/m1` but not `host/devices/d10`.
 */
export function resourceCovers(tokenResourceUri: string, targetResource: string): boolean {
  const scope = normalizeResource(tokenResourceUri);
  const target = normalizeResource(targetResource);
  if (scope === '') return false;
  return target === scope || target.startsWith(`${scope}/`);
}

/**
 * The DPS group-enrollment derived device key:
 * `base64(HMAC-SHA256(base64decode(groupKey), utf8(registrationId)))`. Throws `ArgumentInvalid`
 * when `groupKey` is not valid base64.
 */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  const keyBytes = keyBytesOf(groupKey, 'base64');
  if (!keyBytes) throw argumentInvalid('The enrollment group key is not valid base64');
  return hmacBase64(keyBytes, registrationId);
}

function hmacBase64(keyBytes: Buffer, text: string): string {
  return createHmac('sha256', keyBytes).update(text, 'utf8').digest('base64');
}

// Node's base64 decoder silently skips invalid characters, so check the text strictly first.
function keyBytesOf(key: string, keyEncoding: KeyEncoding): Buffer | undefined {
  if (key === '') return undefined;
  if (keyEncoding === 'utf8') return Buffer.from(key, 'utf8');
  return BASE64_PATTERN.test(key) ? Buffer.from(key, 'base64') : undefined;
}

function requireField(fields: Map<string, string>, name: string): string {
  const value = fields.get(name);
  if (value === undefined || value === '') throw unauthorizedAccess(`SAS token is missing '${name}'`);
  return value;
}

function decodeField(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw unauthorizedAccess(`SAS token field '${name}' is not valid percent-encoding`);
  }
}

// Field names are echoed only when they are ones we know, so arbitrary token text never reaches a message.
function safeFieldName(name: string): string {
  return KNOWN_FIELDS.has(name) ? name : '(unknown)';
}

function normalizeResource(resource: string): string {
  return resource.replace(/\/+$/, '').toLowerCase();
}
