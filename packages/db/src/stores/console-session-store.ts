/**
 * ConsoleSessionStore on drizzle.
 * @module
 */

import { and, eq, lt, ne } from 'drizzle-orm';
import type { ConsoleSession, ConsoleSessionStore } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { consoleSessions } from '../schema/index.ts';

export class DrizzleConsoleSessionStore implements ConsoleSessionStore {
  constructor(private readonly db: HubDatabase) {}

  async insert(session: ConsoleSession): Promise<void> {
    await this.db.insert(consoleSessions).values(session);
  }

  async get(id: string): Promise<ConsoleSession | undefined> {
    const [row] = await this.db.select().from(consoleSessions).where(eq(consoleSessions.id, id));
    return row;
  }

  async setExpiresAt(id: string, expiresAt: number): Promise<void> {
    await this.db.update(consoleSessions).set({ expiresAt }).where(eq(consoleSessions.id, id));
  }

  async delete(id: string): Promise<void> {
    await this.db.delete(consoleSessions).where(eq(consoleSessions.id, id));
  }

  async deleteForOperator(username: string, exceptId?: string): Promise<void> {
    const ofOperator = eq(consoleSessions.username, username);
    await this.db.delete(consoleSessions).where(exceptId === undefined ? ofOperator : and(ofOperator, ne(consoleSessions.id, exceptId)));
  }

  async deleteExpired(now: number): Promise<number> {
    const removed = await this.db.delete(consoleSessions).where(lt(consoleSessions.expiresAt, now)).returning({ id: consoleSessions.id });
    return removed.length;
  }
}
