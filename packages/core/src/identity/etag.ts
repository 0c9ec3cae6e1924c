/**
 * ETags of registry identities and the `If-Match` rule: a missing header or `*` matches anything,
 * otherwise the (unquoted) value must equal the current etag.
 * @module
 */

/** IoT Hub device etags are base64 text of a decimal counter, e.g. `MQ==`. */
export function identityEtag(etagVersion: number): string {
  return Buffer.from(String(etagVersion), 'utf8').toString('base64');
}

/** Strips the quotes the SDKs put around If-Match values (`"*"`, `"MQ=="`). */
export function unquoteEtag(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) return trimmed.slice(1, -1);
  return trimmed;
}

/** True when `ifMatch` (as sent, possibly quoted or absent) allows a write to a record with `currentEtag`. */
export function etagMatches(ifMatch: string | null | undefined, currentEtag: string): boolean {
  if (ifMatch === null || ifMatch === undefined) return true;
  const wanted = unquoteEtag(ifMatch);
  return wanted === '*' || wanted === currentEtag;
}
