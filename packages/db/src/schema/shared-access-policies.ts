/**
 * Shared access policies: named key pairs with IoT Hub permissions.
 * @module
 */

import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { Permission } from '@tributary/core';

export const sharedAccessPolicies = pgTable('shared_access_policies', {
  keyName: text('key_name').primaryKey(),
  primaryKey: text('primary_key').notNull(),
  secondaryKey: text('secondary_key').notNull(),
  rights: jsonb('rights').$type<Permission[]>().notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
