/**
 * The e2e harness: the hub process helpers (support/hub-process.ts) plus `forEachStorage`, which
 * runs a suite once per storage with bun:test.
 * @module
 */

import { describe, test } from 'bun:test';
import { storages, type Storage } from '../support/hub-process.ts';

export * from '../support/hub-process.ts';

/**
 * Runs `suite` once per storage. Without DATABASE_URL the PostgreSQL run is skipped loudly.
 * @example forEachStorage('registry', (storage) => { … spawnHub({ storage }) … })
 */
export function forEachStorage(name: string, suite: (storage: Storage) => void): void {
  for (const storage of storages()) describe(`${name} on ${storage}`, () => suite(storage));
  if (!process.env.DATABASE_URL) {
    describe(`${name} on postgres`, () => {
      test.skip('SKIPPED: set DATABASE_URL=postgres://… to run against PostgreSQL', () => {});
    });
  }
}

