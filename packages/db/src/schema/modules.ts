/**
 * Modules of the identity registry, each with its twin; deleted with their device.
 * @module
 */

import { foreignKey, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { devices } from './devices.ts';
import { identifier, identityColumns, twinColumns } from './columns.ts';

export const modules = pgTable(
  'modules',
  {
    ...identityColumns(),
    moduleId: identifier('module_id').notNull(),
    managedBy: text('managed_by'),
    ...twinColumns(),
  },
  (table) => [
    primaryKey({ name: 'modules_pkey', columns: [table.deviceId, table.moduleId] }),
    foreignKey({ name: 'modules_device_fk', columns: [table.deviceId], foreignColumns: [devices.deviceId] }).onDelete(
      'cascade',
    ),
  ],
);
