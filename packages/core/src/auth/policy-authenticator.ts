/**
 * Authenticates service callers by shared access policy tokens (`skn` names the policy) and
 * authorises each use against the policy's permissions. Policies are cached in memory and
 * reloaded when the hub changes them. Device-identity tokens are the device session's business.
 * @module
 */

import type { Clock } from '../clock.ts';
import { unauthorizedAccess } from '../errors.ts';
import type { PolicyStore } from '../ports.ts';
import { grants, type Permission, type SharedAccessPolicy } from './policies.ts';
import { DEFAULT_SAS_SKEW_MS, isSasExpired, parseSasToken, verifySasSignature } from './sas.ts';

/** Who is calling, once their token has been verified. */
export interface ServicePrincipal {
  keyName: string;
  rights: readonly Permission[];
}

export interface PolicyAuthenticatorDeps {
  policies: PolicyStore;
  /** The hub's HostName; a token's `sr` must name this hub (a `:port` suffix is allowed). */
  hostName: string;
  clock: Clock;
  skewMs?: number;
}

const hostOf = (resource: string) => resource.split('/')[0]!.replace(/:\d+$/, '').toLowerCase();

export class PolicyAuthenticator {
  readonly #deps: PolicyAuthenticatorDeps;
  #policies: Promise<Map<string, SharedAccessPolicy>> | undefined;

  constructor(deps: PolicyAuthenticatorDeps) {
    this.#deps = deps;
  }

  /** Verifies a `SharedAccessSignature sr=…&sig=…&se=…&skn=…` token; throws IotHubUnauthorizedAccess. */
  async authenticate(tokenText: string): Promise<ServicePrincipal> {
    const token = parseSasToken(tokenText);
    if (!token.keyName) throw unauthorizedAccess('The SAS token names no shared access policy (skn)');
    if (token.resourceUri.includes('/') || hostOf(token.resourceUri) !== hostOf(this.#deps.hostName)) {
      throw unauthorizedAccess(`The SAS token is for '${token.resourceUri}', not for this hub '${this.#deps.hostName}'`);
    }
    if (isSasExpired(token, this.#deps.clock.now(), this.#deps.skewMs ?? DEFAULT_SAS_SKEW_MS)) {
      throw unauthorizedAccess('The SAS token has expired');
    }
    const policy = (await this.#load()).get(token.keyName);
    const verified =
      policy !== undefined &&
      (verifySasSignature(token, policy.primaryKey) || verifySasSignature(token, policy.secondaryKey));
    if (!verified) {
      // One message for an unknown policy and a wrong key, so policy names cannot be probed.
      throw unauthorizedAccess(`The SAS token signature is not valid for shared access policy '${token.keyName}'`);
    }
    return { keyName: policy.keyName, rights: policy.rights };
  }

  /** Throws IotHubUnauthorizedAccess unless the principal's policy grants `permission`. */
  authorize(principal: ServicePrincipal, permission: Permission): void {
    if (!grants(principal.rights, permission)) {
      throw unauthorizedAccess(`Shared access policy '${principal.keyName}' does not grant ${permission}`);
    }
  }

  /** Forgets cached policies; call after any policy write. */
  invalidate(): void {
    this.#policies = undefined;
  }

  #load(): Promise<Map<string, SharedAccessPolicy>> {
    this.#policies ??= this.#deps.policies.list().then(
      (list) => new Map(list.map((policy) => [policy.keyName, policy])),
      (error) => {
        this.#policies = undefined;
        throw error;
      },
    );
    return this.#policies;
  }
}
