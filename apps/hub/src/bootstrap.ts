/**
 * First-start bootstrap of the hub's stored state: the built-in shared access policies with
 * random keys and the first console operator `admin`. Idempotent: a hub that already has
 * policies or operators keeps them. TLS material is the tls/ module's business.
 * @module
 */

import { randomBytes } from 'node:crypto';
import { ADMIN_USERNAME, createBuiltInPolicies, type HubStores, type Logger } from '@tributary/core';

export interface BootstrapResult {
  /** The admin password, only when it was generated now (it is shown once, never stored in clear). */
  generatedAdminPassword?: string;
}

export async function bootstrapHub(
  stores: HubStores,
  options: { adminPassword?: string; now: number; logger: Logger },
): Promise<BootstrapResult> {
  const result: BootstrapResult = {};
  if ((await stores.policies.list()).length === 0) {
    for (const policy of createBuiltInPolicies()) await stores.policies.upsert(policy);
    options.logger.info('shared_access_policies_created', { keyNames: createBuiltInPolicies().map((p) => p.keyName) });
  }
  if ((await stores.operators.count()) === 0) {
    const password = options.adminPassword ?? randomBytes(12).toString('base64url');
    const passwordHash = await Bun.password.hash(password, { algorithm: 'argon2id' });
    await stores.operators.insert({ username: ADMIN_USERNAME, passwordHash, role: 'admin', createdAt: options.now });
    options.logger.info('admin_operator_created', { username: ADMIN_USERNAME, isPasswordGenerated: !options.adminPassword });
    if (!options.adminPassword) result.generatedAdminPassword = password;
  }
  return result;
}
