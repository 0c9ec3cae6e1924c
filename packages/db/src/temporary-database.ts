/**
 * A throw-away PostgreSQL database per test run (or per spawned test hub), created on the server
 * named by a base URL and dropped afterwards, so test files never share tables.
 * @module
 */

import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface TemporaryDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTemporaryPostgresDatabase(baseUrl: string, label = 'test'): Promise<TemporaryDatabase> {
  const name = `tributary_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(5).toString('hex')}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = postgres(baseUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await dropper.end({ timeout: 5 });
      }
    },
  };
}
