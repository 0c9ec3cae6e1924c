/**
 * The console's session cookie and CSRF rules. The cookie is HttpOnly and SameSite=Strict (Secure
 * over TLS); on top of that, a cookie-authenticated request that changes something must carry
 * `x-tributary-console: 1` (a header no cross-site form or image can send, and no cross-site
 * script may without a CORS grant the hub never gives), and any `Origin` it carries must be the
 * hub's own.
 * @module
 */

import { unauthorizedAccess } from '@tributary/core';

export const SESSION_COOKIE = 'tributary_session';
export const CONSOLE_HEADER = 'x-tributary-console';

/** The session token in a `Cookie` header, if any. */
export function sessionTokenOf(cookieHeader: string | null | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=') || undefined;
  }
  return undefined;
}

export function sessionCookie(token: string, expiresAt: number, isTls: boolean): string {
  const expires = new Date(expiresAt).toUTCString();
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Expires=${expires}${isTls ? '; Secure' : ''}`;
}

export function clearedSessionCookie(isTls: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${isTls ? '; Secure' : ''}`;
}

const isSafeMethod = (method: string) => method === 'GET' || method === 'HEAD';

/** Throws IotHubUnauthorizedAccess when a cookie-authenticated request could be a cross-site forgery. */
export function checkCrossSite(request: Request): void {
  const origin = request.headers.get('origin');
  if (origin && origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      throw unauthorizedAccess(`The Origin '${origin}' is not a URL`);
    }
    if (originHost !== request.headers.get('host')) throw unauthorizedAccess(`Requests from ${origin} may not use the console session`);
  }
  if (!isSafeMethod(request.method) && request.headers.get(CONSOLE_HEADER) !== '1') {
    throw unauthorizedAccess(`A console request that changes something must carry the header ${CONSOLE_HEADER}: 1`);
  }
}

export { isSafeMethod };
