/**
 * Console login sessions, after the Lucia design: the browser holds a random token (20 bytes,
 * base32) in an HttpOnly cookie; storage holds only its SHA-256, so a leaked table logs nobody
 * in. Sessions slide: a session used in the second half of its lifetime is extended. Logging out,
 * removing an operator or changing its password revokes sessions. Passwords are argon2id
 * (`Bun.password`).
 * @module
 */

import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import {
  type Clock,
  type ConsoleSession,
  type ConsoleSessionStore,
  type Operator,
  type OperatorStore,
  unauthorizedAccess,
} from '@tributary/core';

export const SESSION_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** The stored id of a session token. */
export const sessionIdOf = (token: string) => encodeHexLowerCase(sha256(new TextEncoder().encode(token)));

export interface ValidSession {
  session: ConsoleSession;
  operator: Operator;
}

export class ConsoleSessions {
  // Verified against when the username is unknown, so a wrong username costs as long as a wrong password.
  readonly #decoyHash = Bun.password.hash('decoy password', { algorithm: 'argon2id' });

  constructor(
    private readonly deps: { operators: OperatorStore; sessions: ConsoleSessionStore; clock: Clock; lifetimeMs?: number },
  ) {}

  get #lifetimeMs() {
    return this.deps.lifetimeMs ?? SESSION_LIFETIME_MS;
  }

  /** Checks the password and opens a session; the token goes to the browser and nowhere else. */
  async logIn(username: string, password: string): Promise<{ token: string; session: ConsoleSession; operator: Operator }> {
    const operator = await this.deps.operators.getByUsername(username);
    const isValid = await Bun.password.verify(password, operator?.passwordHash ?? (await this.#decoyHash));
    if (!operator || !isValid) throw unauthorizedAccess('Wrong username or password');
    const token = encodeBase32LowerCaseNoPadding(crypto.getRandomValues(new Uint8Array(20)));
    const now = this.deps.clock.now();
    const session = { id: sessionIdOf(token), username, createdAt: now, expiresAt: now + this.#lifetimeMs };
    await this.deps.sessions.insert(session);
    return { token, session, operator };
  }

  /** The live session behind `token` (extended when past half its life), or undefined. */
  async validate(token: string): Promise<ValidSession | undefined> {
    const session = await this.deps.sessions.get(sessionIdOf(token));
    if (!session) return undefined;
    const now = this.deps.clock.now();
    if (session.expiresAt <= now) {
      await this.deps.sessions.delete(session.id);
      return undefined;
    }
    const operator = await this.deps.operators.getByUsername(session.username);
    if (!operator) return undefined;
    if (session.expiresAt - now < this.#lifetimeMs / 2) {
      session.expiresAt = now + this.#lifetimeMs;
      await this.deps.sessions.setExpiresAt(session.id, session.expiresAt);
    }
    return { session, operator };
  }

  async logOut(token: string): Promise<void> {
    await this.deps.sessions.delete(sessionIdOf(token));
  }

  /** Ends every session of `username` except `keepSessionId` (after a password change). */
  revokeOperator(username: string, keepSessionId?: string): Promise<void> {
    return this.deps.sessions.deleteForOperator(username, keepSessionId);
  }

  sweepExpired(): Promise<number> {
    return this.deps.sessions.deleteExpired(this.deps.clock.now());
  }
}
