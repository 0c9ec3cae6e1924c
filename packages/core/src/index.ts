/**
 * The deliberate public surface of @tributary/core: apps and packages import from here, never
 * from deep paths (test support lives in `@tributary/core/testing`).
 * @module
 */

export * from './errors.ts';
export type { Logger, LogFields } from './log.ts';
export { silentLogger } from './log.ts';
export type { Clock } from './clock.ts';
export { isoTime, systemClock } from './clock.ts';
export type * from './ports.ts';
export { DEVICE_SORT_FIELDS } from './ports.ts';

export type * from './identity/types.ts';
export { DEVICE_STATUSES, AUTHENTICATION_TYPES } from './identity/types.ts';
export { IdentityRegistry, MAX_LIST_DEVICES, type KeyRegeneration, type IdentityRegistryDeps } from './identity/registry.ts';
export type * from './identity/bulk.ts';
export { IMPORT_MODES, MAX_BULK_DEVICES } from './identity/bulk.ts';
export { identityEtag, unquoteEtag, etagMatches } from './identity/etag.ts';
export { validateDeviceId, validateModuleId, MAX_IDENTIFIER_LENGTH } from './identity/identifiers.ts';
export { generateKey } from './identity/keys.ts';

export type { Permission, SharedAccessPolicy } from './auth/policies.ts';
export { PERMISSIONS, BUILT_IN_POLICY_RIGHTS, createBuiltInPolicies, grants } from './auth/policies.ts';

export type { Operator, OperatorRole } from './operators/operator.ts';
export { ADMIN_USERNAME } from './operators/operator.ts';
export type { ConsoleSession } from './operators/console-session.ts';

export type { SasToken, KeyEncoding } from './auth/sas.ts';
export {
  parseSasToken,
  computeSignature,
  verifySasSignature,
  isSasExpired,
  encodeStrict,
  createSasToken,
  sasRecipes,
  resourceCovers,
  deriveDeviceKey,
  DEFAULT_SAS_SKEW_MS,
} from './auth/sas.ts';
export type { IotHubConnectionString, EventHubConnectionString } from './auth/connection-string.ts';
export {
  parseConnectionString,
  parseIotHubConnectionString,
  buildDeviceConnectionString,
  buildServiceConnectionString,
  parseEventHubConnectionString,
  buildEventHubConnectionString,
} from './auth/connection-string.ts';
export { PolicyAuthenticator, type ServicePrincipal, type PolicyAuthenticatorDeps } from './auth/policy-authenticator.ts';

export * from './telemetry/index.ts';
export * from './session/index.ts';
export * from './methods/index.ts';
export * from './auth/index.ts';
export * from './twins/index.ts';
export * from './c2d/index.ts';
export { verifyEventHubsToken, type EventHubsTokenDeps, type EventHubsPrincipal } from './auth/event-hubs-token.ts';
export * from './files/index.ts';
