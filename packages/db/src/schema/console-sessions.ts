/**
 * Console login sessions: the SHA-256 of each session token (never the token), its operator and
 * its sliding expiry. Deleting an operator deletes its sessions.
 * @module
 */

import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs } from './columns.ts';
import { operators } from './operators.ts';

export const consoleSessions = pgTable(
  'console_sessions',
  {
    id: text('id').primaryKey(),
    username: text('username')
      .notNull()
      .references(() => operators.username, { onDelete: 'cascade' }),
    createdAt: epochMs('created_at').notNull(),
    expiresAt: epochMs('expires_at').notNull(),
  },
  (table) => [index('console_sessions_username_idx').on(table.username), index('console_sessions_expires_at_idx').on(table.expiresAt)],
);
