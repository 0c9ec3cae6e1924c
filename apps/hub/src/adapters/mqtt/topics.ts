/**
 * IoT Hub's MQTT topic names (digest §4.3): parsing what devices publish and subscribe to,
 * formatting what the hub publishes. Topic words stay in this folder.
 * @module
 */

export type InboundTopic =
  | { kind: 'telemetry'; deviceId: string; moduleId: string | null; propertyBag: string }
  | { kind: 'twinGet'; requestId: string }
  | { kind: 'twinPatchReported'; requestId: string }
  | { kind: 'methodResponse'; status: number; requestId: string }
  | { kind: 'unknown' };

const TELEMETRY = /^devices\/([^/]+)\/(?:modules\/([^/]+)\/)?messages\/events(?:\/(.*))?$/s;
const TWIN_GET = /^\$iothub\/twin\/GET\/\?(.*)$/s;
const TWIN_PATCH_REPORTED = /^\$iothub\/twin\/PATCH\/properties\/reported\/\?(.*)$/s;
const METHOD_RESPONSE = /^\$iothub\/methods\/res\/(\d{1,3})\/\?(.*)$/s;

function queryValue(query: string, name: string): string | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if ((eq < 0 ? pair : pair.slice(0, eq)) === name) return eq < 0 ? '' : pair.slice(eq + 1);
  }
  return undefined;
}

export function parsePublishTopic(topic: string): InboundTopic {
  const telemetry = TELEMETRY.exec(topic);
  if (telemetry) {
    // Ids appear raw, as in the CONNECT client id (`%` is a legal id character): never decoded.
    return {
      kind: 'telemetry',
      deviceId: telemetry[1]!,
      moduleId: telemetry[2] ?? null,
      propertyBag: telemetry[3] ?? '',
    };
  }
  const twinGet = TWIN_GET.exec(topic);
  if (twinGet) return withRequestId(twinGet[1]!, (requestId) => ({ kind: 'twinGet', requestId }));
  const twinPatch = TWIN_PATCH_REPORTED.exec(topic);
  if (twinPatch) return withRequestId(twinPatch[1]!, (requestId) => ({ kind: 'twinPatchReported', requestId }));
  const methodResponse = METHOD_RESPONSE.exec(topic);
  if (methodResponse) {
    const status = Number(methodResponse[1]);
    return withRequestId(methodResponse[2]!, (requestId) => ({ kind: 'methodResponse', status, requestId }));
  }
  return { kind: 'unknown' };
}

function withRequestId(query: string, build: (requestId: string) => InboundTopic): InboundTopic {
  const requestId = queryValue(query, '$rid');
  return requestId === undefined || requestId === '' ? { kind: 'unknown' } : build(requestId);
}

/** What a subscription filter asks for; anything else is refused (SUBACK 0x80). */
export type Subscription = 'c2d' | 'moduleInputs' | 'methods' | 'twinResponses' | 'desired';

export function parseSubscription(filter: string, deviceId: string, moduleId: string | null): Subscription | undefined {
  if (filter === '$iothub/methods/POST/#') return 'methods';
  if (filter === '$iothub/twin/res/#') return 'twinResponses';
  if (filter === '$iothub/twin/PATCH/properties/desired/#') return 'desired';
  if (moduleId === null && (filter === `devices/${deviceId}/messages/devicebound/#` || filter === `devices/${deviceId}/messages/devicebound/`)) {
    return 'c2d';
  }
  if (moduleId !== null && filter === `devices/${deviceId}/modules/${moduleId}/inputs/#`) return 'moduleInputs';
  return undefined;
}

/** Subscriptions are granted at QoS 1 for C2D and inputs, QoS 0 for the `$iothub` topics. */
export const grantedQos = (subscription: Subscription): 0 | 1 => (subscription === 'c2d' || subscription === 'moduleInputs' ? 1 : 0);

export const c2dTopic = (deviceId: string, propertyBag: string) => `devices/${deviceId}/messages/devicebound/${propertyBag}`;
export const methodRequestTopic = (methodName: string, requestId: string) => `$iothub/methods/POST/${methodName}/?$rid=${requestId}`;
export const twinResponseTopic = (status: number, requestId: string, version?: number) =>
  `$iothub/twin/res/${status}/?$rid=${requestId}${version === undefined ? '' : `&$version=${version}`}`;
export const desiredPatchTopic = (version: number) => `$iothub/twin/PATCH/properties/desired/?$version=${version}`;

/** Wildcards are only for subscriptions; a PUBLISH naming one is a protocol violation. */
export const hasWildcard = (topic: string) => topic.includes('+') || topic.includes('#');
