/**
 * Device authentication and the CA certificate registry, for core's public surface
 * (`export * from './auth/index.ts'` in src/index.ts). SAS, policies and the service-side
 * PolicyAuthenticator are exported from src/index.ts directly.
 * @module
 */

// AuthenticatedDevice, AuthMethod and authMethodJson are the session's (session/device-identity.ts).
export { DeviceAuthenticator, type DeviceAuthenticatorDeps, type DeviceCredentials } from './device-authenticator.ts';
export { IdentityCache, type IdentityCacheOptions, type IdentityReader } from './identity-cache.ts';
export { invalidatingRegistryStore, type IdentityInvalidation } from './invalidating-registry-store.ts';
export type { CaCertificate, CertificateStore } from './certificate-store.ts';
export {
  CaCertificateService,
  CA_CERTIFICATE_NAME_PATTERN,
  MAX_CERTIFICATE_TEXT_LENGTH,
  certificateAlreadyExists,
  parseCaCertificate,
  validateCertificateName,
  type CaCertificateServiceDeps,
  type EnsureOutcome,
} from './ca-certificates.ts';
export {
  MAX_CHAIN_LENGTH,
  buildChain,
  certificateDersFromText,
  isWithinValidity,
  matchesThumbprint,
  parseDerCertificate,
  subjectCommonNames,
  subjectText,
  thumbprintsOf,
  toPem,
  validityOf,
  type ChainFailure,
  type ChainResult,
  type Thumbprints,
} from './x509.ts';
