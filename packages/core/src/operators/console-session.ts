/**
 * A console operator's login session, as stored: the Lucia design, where the browser holds a
 * random token and storage holds only its SHA-256 (`id`), so a leaked table logs nobody in.
 * Issuing tokens, sliding expiry and revocation are the hub's (console-api/sessions.ts).
 * @module
 */

export interface ConsoleSession {
  /** Lower-case hex SHA-256 of the session token. */
  id: string;
  username: string;
  createdAt: number;
  expiresAt: number;
}
