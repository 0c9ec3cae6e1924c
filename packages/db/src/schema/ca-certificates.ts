/**
 * CA certificates registered with the hub, for `certificateAuthority` devices.
 * @module
 */

import { boolean, pgTable, text } from 'drizzle-orm/pg-core';
import { epochMs, identifier } from './columns.ts';

export const caCertificates = pgTable('ca_certificates', {
  // Bytewise collation, so the list order is the same on every database (and in memory).
  name: identifier('name').primaryKey(),
  pem: text('pem').notNull(),
  thumbprint: text('thumbprint').notNull(),
  subject: text('subject').notNull(),
  expiry: epochMs('expiry').notNull(),
  isVerified: boolean('is_verified').notNull().default(false),
  createdAt: epochMs('created_at').notNull(),
  updatedAt: epochMs('updated_at').notNull(),
});
