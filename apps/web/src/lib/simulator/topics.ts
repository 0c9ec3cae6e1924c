// IoT Hub's MQTT device topics as the simulator uses them: building the topics it publishes and
// parsing the ones the hub sends (azure-wire-protocol.md §4). Owns no connection.

/** Url-encoded `key=value&…` property bag, as IoT Hub appends to telemetry and C2D topics. */
export function formatPropertyBag(properties: Record<string, string>): string {
  return Object.entries(properties)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&');
}

export function parsePropertyBag(bag: string): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of bag.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const key = at < 0 ? pair : pair.slice(0, at);
    properties[decodeURIComponent(key)] = at < 0 ? '' : decodeURIComponent(pair.slice(at + 1));
  }
  return properties;
}

export const telemetryTopic = (deviceId: string, properties: Record<string, string>) =>
  `devices/${deviceId}/messages/events/${formatPropertyBag(properties)}`;

export const subscriptions = (deviceId: string) => [
  `devices/${deviceId}/messages/devicebound/#`,
  '$iothub/methods/POST/#',
  '$iothub/twin/res/#',
  '$iothub/twin/PATCH/properties/desired/#',
];

export const methodResponseTopic = (status: number, rid: string) => `$iothub/methods/res/${status}/?$rid=${encodeURIComponent(rid)}`;
export const twinGetTopic = (rid: string) => `$iothub/twin/GET/?$rid=${encodeURIComponent(rid)}`;
export const reportedPatchTopic = (rid: string) => `$iothub/twin/PATCH/properties/reported/?$rid=${encodeURIComponent(rid)}`;

/** What an incoming publish is, by its topic. */
export type IncomingTopic =
  | { kind: 'c2d'; properties: Record<string, string> }
  | { kind: 'methodRequest'; methodName: string; rid: string }
  | { kind: 'twinResponse'; status: number; rid: string; version?: number }
  | { kind: 'desiredPatch'; version?: number }
  | { kind: 'unknown' };

function numberOrUndefined(text: string | undefined): number | undefined {
  const value = Number(text);
  return text === undefined || text === '' || !Number.isFinite(value) ? undefined : value;
}

export function parseIncomingTopic(topic: string): IncomingTopic {
  const c2d = /^devices\/[^/]+\/messages\/devicebound\/?(.*)$/.exec(topic);
  if (c2d) return { kind: 'c2d', properties: parsePropertyBag(c2d[1] ?? '') };
  const method = /^\$iothub\/methods\/POST\/([^/]+)\/\?(.*)$/.exec(topic);
  if (method) {
    const query = parsePropertyBag(method[2] ?? '');
    return { kind: 'methodRequest', methodName: decodeURIComponent(method[1] ?? ''), rid: query.$rid ?? '' };
  }
  const twin = /^\$iothub\/twin\/res\/(\d+)\/\?(.*)$/.exec(topic);
  if (twin) {
    const query = parsePropertyBag(twin[2] ?? '');
    return { kind: 'twinResponse', status: Number(twin[1]), rid: query.$rid ?? '', version: numberOrUndefined(query.$version) };
  }
  const desired = /^\$iothub\/twin\/PATCH\/properties\/desired\/\??(.*)$/.exec(topic);
  if (desired) return { kind: 'desiredPatch', version: numberOrUndefined(parsePropertyBag(desired[1] ?? '').$version) };
  return { kind: 'unknown' };
}
