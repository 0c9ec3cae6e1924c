/**
 * SettingsStore on drizzle: one JSON value per key.
 * @module
 */

import { eq } from 'drizzle-orm';
import type { SettingsStore } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { hubSettings } from '../schema/index.ts';

export class DrizzleSettingsStore implements SettingsStore {
  constructor(private readonly db: HubDatabase) {}

  async get<T>(key: string): Promise<T | undefined> {
    const [row] = await this.db.select({ value: hubSettings.value }).from(hubSettings).where(eq(hubSettings.key, key));
    return row ? (row.value as T) : undefined;
  }

  async set<T>(key: string, value: T): Promise<void> {
    const row = { key, value, updatedAt: new Date() };
    await this.db.insert(hubSettings).values(row).onConflictDoUpdate({ target: hubSettings.key, set: row });
  }
}
