/**
 * Authenticates devices and modules for every device endpoint (MQTT, AMQP, HTTPS): SAS tokens
 * signed with the identity's own key or a DeviceConnect policy (wire digest §2), and X.509
 * certificates by thumbprint or through a verified registered CA (§3). Adapters extract the
 * credentials and map the one failure, `IotHubUnauthorized` (401003), onto their protocol (MQTT
 * CONNACK 5, `amqp:unauthorized-access`, HTTP 401). Session lifetime is the session's business;
 * this file only says until when a SAS token is good.
 * @module
 */

import type { X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { deviceUnauthorized, isHubError } from '../errors.ts';
import { validateDeviceId, validateModuleId } from '../identity/identifiers.ts';
import type { Device, Module } from '../identity/types.ts';
import type { PolicyStore } from '../ports.ts';
import type { AuthenticatedDevice, AuthMethod } from '../session/device-identity.ts';
import type { CertificateStore } from './certificate-store.ts';
import type { IdentityReader } from './identity-cache.ts';
import { grants } from './policies.ts';
import { DEFAULT_SAS_SKEW_MS, isSasExpired, parseSasToken, resourceCovers, verifySasSignature, type SasToken } from './sas.ts';
import {
  buildChain,
  certificateDersFromText,
  type ChainFailure,
  isWithinValidity,
  matchesThumbprint,
  MAX_CHAIN_LENGTH,
  parseDerCertificate,
  subjectCommonNames,
  thumbprintsOf,
} from './x509.ts';

/** What a device endpoint extracted from the connection; `moduleId` present for a module identity. */
export type DeviceCredentials =
  | { kind: 'sas'; deviceId: string; moduleId?: string; token: string }
  | {
      kind: 'x509';
      deviceId: string;
      moduleId?: string;
      /** DER certificates, leaf first, as presented by the TLS peer. */
      certificateChain: Uint8Array[];
    };

export interface DeviceAuthenticatorDeps {
  /** Where identities are read: the hub passes its IdentityCache, so reconnects cost no database read. */
  registry: IdentityReader;
  policies: PolicyStore;
  certificates: CertificateStore;
  /** The hub's HostName; a token's `sr` must name this hub (a `:port` suffix is allowed). */
  hostName: string;
  clock: Clock;
  /** Tolerated clock skew for SAS expiry and certificate validity; IoT Hub's docs mention five minutes. */
  skewMs?: number;
}

interface Identity {
  device: Device;
  identity: Device | Module;
  moduleId: string | null;
  /** `device 'd1'` or `module 'm1' of device 'd1'`, for messages. */
  label: string;
}

const hostOf = (resource: string) => resource.split('/')[0]!.replace(/:\d+$/, '').toLowerCase();

const CHAIN_FAILURES: Record<ChainFailure, string> = {
  'no-issuer': 'does not chain to a verified CA certificate registered with the hub',
  'bad-signature': 'has a certificate whose signature was not made by its issuer',
  'issuer-expired': 'has an issuing certificate outside its validity period',
  'issuer-not-ca': 'has an issuing certificate that is not a CA (basicConstraints CA:true)',
  'too-long': 'is longer than the hub accepts',
};

/**
 * @example
 * const authenticator = new DeviceAuthenticator({ registry, policies, certificates, hostName, clock });
 * const who = await authenticator.authenticate({ kind: 'sas', deviceId: 'd1', token: password });
 * // who.tokenExpiresAtMs: close the session then
 */
export class DeviceAuthenticator {
  readonly #deps: DeviceAuthenticatorDeps;
  readonly #skewMs: number;

  constructor(deps: DeviceAuthenticatorDeps) {
    this.#deps = deps;
    this.#skewMs = deps.skewMs ?? DEFAULT_SAS_SKEW_MS;
  }

  /** Resolves the authenticated identity or throws HubError `IotHubUnauthorized` saying what failed. */
  async authenticate(credentials: DeviceCredentials): Promise<AuthenticatedDevice> {
    const deviceId = checkedId(() => validateDeviceId(credentials.deviceId), 'deviceId');
    const moduleId =
      credentials.moduleId === undefined ? undefined : checkedId(() => validateModuleId(credentials.moduleId), 'moduleId');
    return credentials.kind === 'sas'
      ? this.#authenticateSas(deviceId, moduleId, credentials.token)
      : this.#authenticateX509(deviceId, moduleId, credentials.certificateChain);
  }

  async #authenticateSas(deviceId: string, moduleId: string | undefined, tokenText: string): Promise<AuthenticatedDevice> {
    const token = parseToken(tokenText);
    const tokenHost = token.resourceUri.split('/')[0]!;
    if (hostOf(token.resourceUri) !== hostOf(this.#deps.hostName)) {
      throw deviceUnauthorized(`The SAS token is for hub '${tokenHost}', not for this hub '${this.#deps.hostName}'`);
    }
    // [SAS token structure] sr is a URI prefix by segment: host/devices/d1 covers d1 and its modules, not d10.
    const target = `${tokenHost}/devices/${deviceId}${moduleId === undefined ? '' : `/modules/${moduleId}`}`;
    if (!resourceCovers(token.resourceUri, target)) {
      throw deviceUnauthorized(`The SAS token's resource '${token.resourceUri}' does not cover ${describe(deviceId, moduleId)}`);
    }
    if (isSasExpired(token, this.#deps.clock.now(), this.#skewMs)) throw deviceUnauthorized('The SAS token has expired');

    const found = await this.#identity(deviceId, moduleId);
    if (token.keyName === undefined) this.#verifyIdentityKey(token, found);
    else await this.#verifyPolicyKey(token, token.keyName);
    checkEnabled(found);
    return {
      ...identityFields(found),
      authMethod: { scope: scopeOf(found), type: 'sas', issuer: 'iothub' },
      tokenExpiresAtMs: token.expiresAtSeconds * 1000 + this.#skewMs,
    };
  }

  /** A token without `skn` is signed with the identity's own key; a module never uses its device's key. */
  #verifyIdentityKey(token: SasToken, found: Identity): void {
    const { authentication } = found.identity;
    if (authentication.type !== 'sas') {
      throw deviceUnauthorized(`The ${found.label} authenticates with ${authentication.type}, it has no keys to sign a SAS token`);
    }
    const { primaryKey, secondaryKey } = authentication.symmetricKey;
    const isValid =
      (primaryKey !== null && verifySasSignature(token, primaryKey)) ||
      (secondaryKey !== null && verifySasSignature(token, secondaryKey));
    if (!isValid) throw deviceUnauthorized(`The SAS token signature is not valid for the ${found.label}`);
  }

  /**
   * A token with `skn` is signed with a shared access policy granting DeviceConnect, for any
   * registered identity whatever its authentication type: the token-service and protocol-gateway
   * patterns of "Control access to IoT Hub using SAS" still require the identity to be registered
   * and enabled, nothing more.
   */
  async #verifyPolicyKey(token: SasToken, keyName: string): Promise<void> {
    const policy = (await this.#deps.policies.list()).find((candidate) => candidate.keyName === keyName);
    const isValid =
      policy !== undefined && (verifySasSignature(token, policy.primaryKey) || verifySasSignature(token, policy.secondaryKey));
    // One message for an unknown policy and a wrong key, so policy names cannot be probed.
    if (!isValid) throw deviceUnauthorized(`The SAS token signature is not valid for shared access policy '${keyName}'`);
    if (!grants(policy.rights, 'DeviceConnect')) {
      throw deviceUnauthorized(`Shared access policy '${keyName}' does not grant DeviceConnect`);
    }
  }

  async #authenticateX509(deviceId: string, moduleId: string | undefined, chain: Uint8Array[]): Promise<AuthenticatedDevice> {
    if (chain.length === 0) throw deviceUnauthorized('No client certificate was presented');
    if (chain.length > MAX_CHAIN_LENGTH) throw deviceUnauthorized(`The client certificate chain ${CHAIN_FAILURES['too-long']}`);
    const certificates = chain.map((der, index) => {
      const certificate = parseDerCertificate(der);
      if (!certificate) throw deviceUnauthorized(`Client certificate ${index + 1} of the chain is not a valid X.509 certificate`);
      return certificate;
    });
    const [leaf, ...intermediates] = certificates as [X509Certificate, ...X509Certificate[]];
    const found = await this.#identity(deviceId, moduleId);
    const { authentication } = found.identity;
    if (authentication.type !== 'selfSigned' && authentication.type !== 'certificateAuthority') {
      throw deviceUnauthorized(`The ${found.label} authenticates with ${authentication.type}, not with an X.509 certificate`);
    }
    const now = this.#deps.clock.now();
    // IoT Hub checks the validity period for thumbprint and CA authentication alike.
    if (!isWithinValidity(leaf, now, this.#skewMs)) {
      throw deviceUnauthorized('The client certificate is outside its validity period');
    }
    let type: AuthMethod['type'];
    switch (authentication.type) {
      case 'selfSigned': {
        const { primaryThumbprint, secondaryThumbprint } = authentication.x509Thumbprint;
        const thumbprints = thumbprintsOf(leaf);
        if (!matchesThumbprint(thumbprints, primaryThumbprint) && !matchesThumbprint(thumbprints, secondaryThumbprint)) {
          throw deviceUnauthorized(`The client certificate's thumbprint is not registered for the ${found.label}`);
        }
        type = 'x509Certificate';
        break;
      }
      case 'certificateAuthority':
        await this.#verifyCaChain(leaf, intermediates, found, now);
        type = 'x509CA';
        break;
    }
    checkEnabled(found);
    return { ...identityFields(found), authMethod: { scope: scopeOf(found), type, issuer: 'iothub' } };
  }

  /** [X.509 CA] CN = deviceId (`deviceId/moduleId` for a module), chained to a verified registered CA. */
  async #verifyCaChain(leaf: X509Certificate, intermediates: X509Certificate[], found: Identity, now: number): Promise<void> {
    const expectedCn = found.moduleId === null ? found.device.deviceId : `${found.device.deviceId}/${found.moduleId}`;
    const names = subjectCommonNames(leaf);
    if (names.length !== 1 || names[0] !== expectedCn) {
      throw deviceUnauthorized(`The client certificate's subject CN must be '${expectedCn}' for the ${found.label}`);
    }
    const anchors = (await this.#deps.certificates.list()).flatMap((record) => {
      const [der] = certificateDersFromText(record.pem);
      const certificate = der && parseDerCertificate(der);
      return certificate ? [{ record, certificate }] : [];
    });
    const verified = anchors.filter((anchor) => anchor.record.isVerified);
    const result = buildChain(leaf, intermediates, verified, now, this.#skewMs);
    if (result.isTrusted) return;
    // Say so when the chain would be trusted if its registered CA were verified: an operator's fix.
    const unverified = buildChain(leaf, intermediates, anchors.filter((anchor) => !anchor.record.isVerified), now, this.#skewMs);
    if (unverified.isTrusted) {
      throw deviceUnauthorized(`The client certificate chains to CA certificate '${unverified.anchor.record.name}', which is not verified`);
    }
    throw deviceUnauthorized(`The client certificate chain ${CHAIN_FAILURES[result.failure]}`);
  }

  async #identity(deviceId: string, moduleId: string | undefined): Promise<Identity> {
    const { registry } = this.#deps;
    const device = await registry.getDevice(deviceId);
    if (!device) throw deviceUnauthorized(`Device '${deviceId}' is not registered`);
    if (moduleId === undefined) return { device, identity: device, moduleId: null, label: `device '${deviceId}'` };
    const module = await registry.getModule(deviceId, moduleId);
    if (!module) throw deviceUnauthorized(`Module '${moduleId}' is not registered on device '${deviceId}'`);
    return { device, identity: module, moduleId, label: describe(deviceId, moduleId) };
  }
}

function parseToken(text: string): SasToken {
  try {
    return parseSasToken(text);
  } catch (error) {
    // parseSasToken's messages are safe (they never echo the signature); only the code changes.
    if (isHubError(error)) throw deviceUnauthorized(error.message);
    throw error;
  }
}

function checkedId(validate: () => string, kind: string): string {
  try {
    return validate();
  } catch (error) {
    if (isHubError(error)) throw deviceUnauthorized(`The ${kind} is malformed: ${error.message}`);
    throw error;
  }
}

/** A module is disabled when its device is: modules have no status of their own. */
function checkEnabled(found: Identity): void {
  if (found.device.status !== 'enabled') throw deviceUnauthorized(`Device '${found.device.deviceId}' is disabled`);
}

function identityFields(found: Identity): Pick<AuthenticatedDevice, 'deviceId' | 'moduleId' | 'generationId'> {
  return { deviceId: found.device.deviceId, moduleId: found.moduleId, generationId: found.identity.generationId };
}

/**
 * The `scope` of the auth method stamped on messages. Azure's own stamps differ in two ways that
 * `AuthMethod` cannot express yet: `"scope":"hub"` for tokens signed with a shared access policy
 * (the D2C docs' sample message) and `"issuer":"external"` for X.509 connections (seen on
 * messages of X.509 devices).
 */
function scopeOf(found: Identity): AuthMethod['scope'] {
  return found.moduleId === null ? 'device' : 'module';
}

function describe(deviceId: string, moduleId: string | undefined): string {
  return moduleId === undefined ? `device '${deviceId}'` : `module '${moduleId}' of device '${deviceId}'`;
}
