// Device SAS tokens signed in the browser (WebCrypto HMAC-SHA256), for the simulator's MQTT
// password. Owns only the token format (IoT Hub "Control access with shared access signatures");
// key storage and renewal are the caller's.

/** `encodeURIComponent` plus the characters RFC 3986 reserves that it leaves alone, as the Azure SDKs do. */
export const encodeUriComponentStrict = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export interface DeviceSasTokenInput {
  hostName: string;
  deviceId: string;
  /** The device's symmetric key, base64 as the registry returns it. */
  key: string;
  /** When the token stops being valid, in seconds since the epoch. */
  expiresAtEpochS: number;
}

/**
 * `SharedAccessSignature sr=<resource>&sig=<signature>&se=<expiry>` for `<hostName>/devices/<deviceId>`.
 * @example
 * const password = await createDeviceSasToken({ hostName, deviceId, key, expiresAtEpochS: now + 3600 });
 */
export async function createDeviceSasToken(input: DeviceSasTokenInput): Promise<string> {
  const resource = encodeUriComponentStrict(`${input.hostName}/devices/${input.deviceId}`);
  const expiry = Math.floor(input.expiresAtEpochS);
  const key = await crypto.subtle.importKey('raw', base64ToBytes(input.key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${resource}\n${expiry}`));
  const sig = encodeUriComponentStrict(bytesToBase64(new Uint8Array(signature)));
  return `SharedAccessSignature sr=${resource}&sig=${sig}&se=${expiry}`;
}
