/**
 * Letter case of the HTTPS device API's fixed path segments. The Node SDK sends
 * `messages/devicebound` and `messages/events` while the docs and other SDKs write
 * `messages/deviceBound` and `messages/Events` (azure-wire-protocol.md §6, §15 item 17), so the
 * hub lower-cases those segments once, before routing, and every route is written in lower case.
 * Identifiers (device id, lock token, correlation id) are never touched: ids are case-sensitive.
 * @module
 */

/**
 * The device API paths after `/devices/{deviceId}`, with `*` for an identifier segment. Only a
 * whole-path match is rewritten, so a service path whose ids happen to spell `messages` or
 * `files` (a module named `files`, say) keeps its case.
 */
const DEVICE_API_TAILS: readonly (readonly string[])[] = [
  ['messages', 'events'],
  ['messages', 'devicebound'],
  ['messages', 'devicebound', '*'],
  ['messages', 'devicebound', '*', 'abandon'],
  ['files'],
  ['files', 'notifications'],
  ['files', 'notifications', '*'],
];

const matches = (tail: readonly string[], segments: readonly string[]) =>
  tail.length === segments.length &&
  tail.every((fixed, index) => fixed === '*' ? segments[index] !== '' : fixed === segments[index]!.toLowerCase());

/**
 * `pathname` with the fixed segments of a device API path in lower case; any other path is
 * returned as it is. Percent-encoded ids (`%2F` included) stay one segment and keep their case.
 * A trailing slash is kept (the apps route with `strict: false`).
 * @example
 * normalizeDeviceApiPath('/devices/Dev%2F1/messages/deviceBound/Ab12') // '/devices/Dev%2F1/messages/devicebound/Ab12'
 * normalizeDeviceApiPath('/devices/Dev1/modules/Files')               // unchanged
 */
export function normalizeDeviceApiPath(pathname: string): string {
  const segments = pathname.split('/');
  // ['', 'devices', deviceId, ...tail]
  if (segments.length < 4 || segments[0] !== '' || segments[1]!.toLowerCase() !== 'devices' || segments[2] === '') return pathname;
  const hasTrailingSlash = segments.at(-1) === '';
  const tail = segments.slice(3, hasTrailingSlash ? -1 : undefined);
  const shape = DEVICE_API_TAILS.find((candidate) => matches(candidate, tail));
  if (!shape) return pathname;
  const normalized = tail.map((segment, index) => (shape[index] === '*' ? segment : shape[index]!));
  return ['', 'devices', segments[2], ...normalized, ...(hasTrailingSlash ? [''] : [])].join('/');
}
