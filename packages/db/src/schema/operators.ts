/**
 * Console operators (username, argon2id hash, role).
 * @module
 */

import { pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs } from './columns.ts';

export const operators = pgTable('operators', {
  username: text('username').primaryKey(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'viewer'] }).notNull(),
  createdAt: epochMs('created_at').notNull(),
});
