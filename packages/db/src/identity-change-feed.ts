/**
 * The identity change feed of hub processes sharing one PostgreSQL (DESIGN.md §6): the registry
 * store NOTIFYs each replaced or deleted device in the write's own transaction (registry-store.ts),
 * and each hub LISTENs here on a connection of its own. PGlite is one process's database, so a
 * hub on it needs no feed: it invalidates its own writes directly.
 * @module
 */

import type { IdentityChangeFeed } from '@tributary/core';
import postgres from 'postgres';

/** The NOTIFY channel; the payload is the deviceId. */
export const IDENTITY_CHANGED_CHANNEL = 'tributary_identity_changed';

/**
 * Listens with postgres.js, which LISTENs again after its connection drops; notifications sent
 * meanwhile are lost, so every (re)start of listening tells the listener that changes were missed.
 * @example
 * const stop = await postgresIdentityChangeFeed(databaseUrl).subscribe({
 *   identityChanged: (deviceId) => identities.invalidate(deviceId),
 *   changesMissed: () => identities.clear(),
 * });
 */
export function postgresIdentityChangeFeed(databaseUrl: string): IdentityChangeFeed {
  return {
    async subscribe(listener) {
      const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
      try {
        const { unlisten } = await sql.listen(
          IDENTITY_CHANGED_CHANNEL,
          (deviceId) => listener.identityChanged(deviceId),
          () => listener.changesMissed(),
        );
        return async () => {
          await unlisten();
          await sql.end({ timeout: 5 });
        };
      } catch (error) {
        await sql.end({ timeout: 1 });
        throw error;
      }
    },
  };
}
