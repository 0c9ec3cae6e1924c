/**
 * OperatorStore on drizzle.
 * @module
 */

import { asc, count, eq } from 'drizzle-orm';
import type { Operator, OperatorStore } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { operators } from '../schema/index.ts';

export class DrizzleOperatorStore implements OperatorStore {
  constructor(private readonly db: HubDatabase) {}

  async insert(operator: Operator): Promise<boolean> {
    const inserted = await this.db
      .insert(operators)
      .values(operator)
      .onConflictDoNothing()
      .returning({ username: operators.username });
    return inserted.length === 1;
  }

  async getByUsername(username: string): Promise<Operator | undefined> {
    const [row] = await this.db.select().from(operators).where(eq(operators.username, username));
    return row;
  }

  async list(): Promise<Operator[]> {
    return this.db.select().from(operators).orderBy(asc(operators.username));
  }

  async setPasswordHash(username: string, passwordHash: string): Promise<boolean> {
    const updated = await this.db
      .update(operators)
      .set({ passwordHash })
      .where(eq(operators.username, username))
      .returning({ username: operators.username });
    return updated.length === 1;
  }

  /** Its sessions go with it (ON DELETE CASCADE). */
  async delete(username: string): Promise<boolean> {
    const deleted = await this.db.delete(operators).where(eq(operators.username, username)).returning({ username: operators.username });
    return deleted.length === 1;
  }

  async count(): Promise<number> {
    const [row] = await this.db.select({ total: count() }).from(operators);
    return row?.total ?? 0;
  }
}
