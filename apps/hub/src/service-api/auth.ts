/**
 * Authorisation of service API requests. A caller is either
 * - a shared access policy: a SAS token in `Authorization`, verified by core's PolicyAuthenticator
 *   and checked against the permission a route needs; or
 * - a console operator: the session cookie (console-api/), with the CSRF rules of
 *   session-cookie.ts. Operators hold every service permission, but a viewer may only read.
 * @module
 */

import { createMiddleware } from 'hono/factory';
import {
  grants,
  PERMISSIONS,
  type Permission,
  type PolicyAuthenticator,
  type ServicePrincipal,
  unauthorizedAccess,
} from '@tributary/core';
import type { ConsoleSessions, ValidSession } from '../console-api/console-sessions.ts';
import { checkCrossSite, isSafeMethod, sessionTokenOf } from '../console-api/session-cookie.ts';
import type { ServiceApiEnv } from './context.ts';

export interface ServiceCaller {
  principal: ServicePrincipal;
  /** Present when the caller is a console operator. */
  console?: ValidSession;
}

export class ServiceAuthenticator {
  constructor(
    private readonly policies: PolicyAuthenticator,
    private readonly consoleSessions?: ConsoleSessions,
  ) {}

  /** The operator behind the request's session cookie (CSRF rules applied), or undefined when it has none. */
  async consoleSessionOf(request: Request): Promise<ValidSession | undefined> {
    const token = sessionTokenOf(request.headers.get('cookie'));
    if (!token || !this.consoleSessions) return undefined;
    checkCrossSite(request);
    const valid = await this.consoleSessions.validate(token);
    if (!valid) throw unauthorizedAccess('The console session expired or was revoked: log in again');
    return valid;
  }

  /** The caller of `request` once one of `permissions` is granted; throws IotHubUnauthorizedAccess otherwise. */
  async authorize(request: Request, permissions: readonly Permission[]): Promise<ServiceCaller> {
    const header = request.headers.get('authorization');
    if (!header) {
      const valid = await this.consoleSessionOf(request);
      if (valid) {
        if (valid.operator.role === 'viewer' && !isSafeMethod(request.method)) {
          throw unauthorizedAccess(`Operator '${valid.operator.username}' is a viewer and cannot change anything`);
        }
        return { principal: { keyName: `operator:${valid.operator.username}`, rights: PERMISSIONS }, console: valid };
      }
      throw unauthorizedAccess('The request has no Authorization header with a SharedAccessSignature');
    }
    if (!/^SharedAccessSignature\s/i.test(header)) {
      throw unauthorizedAccess('The Authorization header must hold a SharedAccessSignature token');
    }
    const principal = await this.policies.authenticate(header);
    if (!permissions.some((permission) => grants(principal.rights, permission))) {
      throw unauthorizedAccess(`Shared access policy '${principal.keyName}' does not grant ${permissions.join(' or ')}`);
    }
    return { principal };
  }
}

/** Middleware: 401 IotHubUnauthorizedAccess unless the caller is granted `permission`. */
export function requirePermission(authenticator: ServiceAuthenticator, permission: Permission) {
  return requireAnyPermission(authenticator, [permission]);
}

/** Middleware: 401 IotHubUnauthorizedAccess unless the caller is granted one of `permissions`. */
export function requireAnyPermission(authenticator: ServiceAuthenticator, permissions: readonly Permission[]) {
  return createMiddleware<ServiceApiEnv>(async (c, next) => {
    const caller = await authenticator.authorize(c.req.raw, permissions);
    c.set('principal', caller.principal);
    await next();
  });
}
