/**
 * PolicyStore on drizzle.
 * @module
 */

import { asc, eq } from 'drizzle-orm';
import type { PolicyStore, SharedAccessPolicy } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { sharedAccessPolicies } from '../schema/index.ts';

export class DrizzlePolicyStore implements PolicyStore {
  constructor(private readonly db: HubDatabase) {}

  async list(): Promise<SharedAccessPolicy[]> {
    const rows = await this.db.select().from(sharedAccessPolicies).orderBy(asc(sharedAccessPolicies.keyName));
    return rows.map(({ keyName, primaryKey, secondaryKey, rights }) => ({ keyName, primaryKey, secondaryKey, rights }));
  }

  async upsert(policy: SharedAccessPolicy): Promise<void> {
    const values = { ...policy, updatedAt: new Date() };
    await this.db.insert(sharedAccessPolicies).values(values).onConflictDoUpdate({
      target: sharedAccessPolicies.keyName,
      set: values,
    });
  }

  async delete(keyName: string): Promise<boolean> {
    const deleted = await this.db
      .delete(sharedAccessPolicies)
      .where(eq(sharedAccessPolicies.keyName, keyName))
      .returning({ keyName: sharedAccessPolicies.keyName });
    return deleted.length === 1;
  }
}
