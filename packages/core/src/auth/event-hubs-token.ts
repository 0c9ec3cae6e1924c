/**
 * Event Hubs SAS tokens for the built-in Event Hub-compatible endpoint (wire digest §2.2, §9):
 * `sr = encodeURIComponent(sb://host[:port]/entity…)`, signed with the UTF-8 bytes of a hub shared
 * access policy's key, and good only for policies that grant ServiceConnect. It verifies one token
 * for one audience; which audiences a link needs is the AMQP adapter's business.
 * @module
 */

import { HubError, isHubError } from '../errors.ts';
import type { PolicyStore } from '../ports.ts';
import { grants, type Permission, type SharedAccessPolicy } from './policies.ts';
import { DEFAULT_SAS_SKEW_MS, isSasExpired, parseSasToken, type SasToken, verifySasSignature } from './sas.ts';

export interface EventHubsTokenDeps {
  /**
   * The hub's shared access policies. A `PolicyStore` is listed on every call (no cache): a CBS
   * put-token comes once per link and renewal (about hourly), and a regenerated or deleted key
   * must stop working at once. Pass an array when the caller keeps its own snapshot.
   */
  policies: readonly SharedAccessPolicy[] | PolicyStore;
  /** The hub's HostName; `sr` and the audience must name it (any `:port` is ignored). */
  hostName: string;
}

/** Who a verified Event Hubs token speaks for. */
export interface EventHubsPrincipal {
  keyName: string;
  rights: readonly Permission[];
  /** The token's `se` in epoch ms, without skew; when a claim based on it lapses. */
  expiresAtMs: number;
}

/** A `sb://` URI split into its host (lower case, without port) and path segments. */
interface SbResource {
  host: string;
  segments: string[];
}

// sb://host[:port][/path]; the host is anything up to the first '/', the path may be empty.
const SB_URI = /^sb:\/\/([^/]+)(?:\/(.*))?$/i;

const refused = (message: string, cause?: unknown) => new HubError('IotHubUnauthorized', message, { cause });

/**
 * Verifies an Event Hubs SAS token presented for `audience` (a CBS put-token `name`, or
 * `sb://host/entity` for a `$management` request's `security_token`). Throws `IotHubUnauthorized`
 * unless all hold:
 * - it parses, names a policy (`skn`) and is not expired (`se` + `skewMs` ≥ `nowMs`);
 * - its `sr`, decoded, is `sb://{hostName}[:port]/…` (host compared case-insensitively);
 * - its resource covers the audience, whole path segments, case-insensitively:
 *   `sb://host/hub` and `sb://host/` cover `sb://host/hub/ConsumerGroups/$Default/Partitions/0`;
 * - it is signed with the policy's primary or secondary key taken as UTF-8 text (Event Hubs does
 *   not base64-decode keys, unlike IoT Hub);
 * - the policy grants ServiceConnect (IoT Hub requires it to read the built-in endpoint).
 * @example
 * const principal = await verifyEventHubsToken({ policies: stores.policies, hostName }, token,
 *   'sb://myhub.example.com/myhub/$management', clock.now());
 */
export async function verifyEventHubsToken(
  deps: EventHubsTokenDeps,
  tokenText: string,
  audience: string,
  nowMs: number,
  skewMs: number = DEFAULT_SAS_SKEW_MS,
): Promise<EventHubsPrincipal> {
  const token = parse(tokenText);
  const keyName = token.keyName;
  if (keyName === undefined) throw refused('The SAS token names no shared access policy (skn)');

  const hubHost = hostOf(deps.hostName);
  const scope = parseSbUri(token.resourceUri);
  if (!scope || scope.host !== hubHost) {
    throw refused(`The SAS token is for '${clip(token.resourceUri)}', not for an sb:// resource of this hub '${deps.hostName}'`);
  }
  const target = parseSbUri(audience);
  if (!target || target.host !== hubHost) {
    throw refused(`The audience '${clip(audience)}' is not an sb:// resource of this hub '${deps.hostName}'`);
  }
  if (!covers(scope, target)) {
    throw refused(`The SAS token for '${clip(token.resourceUri)}' does not cover '${clip(audience)}'`);
  }
  if (isSasExpired(token, nowMs, skewMs)) throw refused('The SAS token has expired');

  const policy = (await listPolicies(deps.policies)).find((candidate) => candidate.keyName === keyName);
  const verified =
    policy !== undefined &&
    (verifySasSignature(token, policy.primaryKey, 'utf8') || verifySasSignature(token, policy.secondaryKey, 'utf8'));
  if (!verified) {
    // One message for an unknown policy and a wrong key, so policy names cannot be probed.
    throw refused(`The SAS token signature is not valid for shared access policy '${keyName}'`);
  }
  if (!grants(policy.rights, 'ServiceConnect')) {
    throw refused(`Shared access policy '${keyName}' does not grant ServiceConnect, which reading events requires`);
  }
  return { keyName: policy.keyName, rights: policy.rights, expiresAtMs: token.expiresAtSeconds * 1000 };
}

function parse(tokenText: string): SasToken {
  try {
    return parseSasToken(tokenText);
  } catch (error) {
    // parseSasToken speaks for service tokens (IotHubUnauthorizedAccess); keep its safe message.
    if (isHubError(error)) throw refused(error.message, error);
    throw error;
  }
}

function parseSbUri(uri: string): SbResource | undefined {
  const match = SB_URI.exec(uri);
  if (!match) return undefined;
  const segments = (match[2] ?? '').split('/').filter((segment) => segment !== '');
  return { host: hostOf(match[1]!), segments: segments.map((segment) => segment.toLowerCase()) };
}

function covers(scope: SbResource, target: SbResource): boolean {
  if (scope.segments.length > target.segments.length) return false;
  return scope.segments.every((segment, i) => segment === target.segments[i]);
}

function hostOf(hostAndPort: string): string {
  return hostAndPort.replace(/:\d*$/, '').toLowerCase();
}

async function listPolicies(policies: EventHubsTokenDeps['policies']): Promise<readonly SharedAccessPolicy[]> {
  return Array.isArray(policies) ? policies : (policies as PolicyStore).list();
}

// Audiences and resources come from the client; keep what is echoed short.
function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
