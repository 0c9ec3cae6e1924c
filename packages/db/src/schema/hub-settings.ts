/**
 * Hub-wide settings, one JSON value per key.
 * @module
 */

import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const hubSettings = pgTable('hub_settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
