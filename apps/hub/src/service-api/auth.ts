/**
 * Authorisation of service API requests: a shared access policy SAS token in `Authorization`,
 * verified by core's PolicyAuthenticator and checked against the permission a route needs.
 * @module
 */

import { createMiddleware } from 'hono/factory';
import { grants, unauthorizedAccess, type Permission, type PolicyAuthenticator, type ServicePrincipal } from '@tributary/core';
import type { ServiceApiEnv } from './context.ts';

/** Middleware: 401 IotHubUnauthorizedAccess unless the caller's policy grants `permission`. */
export function requirePermission(authenticator: PolicyAuthenticator, permission: Permission) {
  return requireAnyPermission(authenticator, [permission]);
}

/** Middleware: 401 IotHubUnauthorizedAccess unless the caller's policy grants one of `permissions`. */
export function requireAnyPermission(authenticator: PolicyAuthenticator, permissions: readonly Permission[]) {
  return createMiddleware<ServiceApiEnv>(async (c, next) => {
    c.set('principal', await authorizeRequest(authenticator, c.req.header('authorization'), permissions));
    await next();
  });
}

/**
 * The caller behind an `Authorization` header, once its token is verified and its policy grants
 * one of `permissions`; throws IotHubUnauthorizedAccess otherwise. Used by the middleware above
 * and by WebSocket upgrades, which happen outside the Hono app.
 */
export async function authorizeRequest(
  authenticator: PolicyAuthenticator,
  header: string | null | undefined,
  permissions: readonly Permission[],
): Promise<ServicePrincipal> {
  if (!header) throw unauthorizedAccess('The request has no Authorization header with a SharedAccessSignature');
  if (!/^SharedAccessSignature\s/i.test(header)) {
    throw unauthorizedAccess('The Authorization header must hold a SharedAccessSignature token');
  }
  const principal = await authenticator.authenticate(header);
  if (!permissions.some((permission) => grants(principal.rights, permission))) {
    throw unauthorizedAccess(`Shared access policy '${principal.keyName}' does not grant ${permissions.join(' or ')}`);
  }
  return principal;
}
