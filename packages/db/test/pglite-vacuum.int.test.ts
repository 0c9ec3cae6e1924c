/**
 * PGlite's vacuum task (pglite-vacuum.ts): with it, a table whose rows keep being deleted and
 * replaced stays near the size of its live rows; without it (single-user PostgreSQL has no autovacuum)
 * it grows with every row ever written. The system catalogs are vacuumed only once the database's
 * oldest unfrozen transaction is old enough. A failed run is reported and the next one still happens.
 */

import { afterEach, describe, expect, test } from 'bun:test';
import { PGlite } from '@electric-sql/pglite';
import { startPgliteVacuum, type VacuumTask } from '../src/pglite-vacuum.ts';

let db: PGlite | undefined;
let task: VacuumTask | undefined;

afterEach(async () => {
  await task?.stop();
  task = undefined;
  if (db && !db.closed) await db.close();
  db = undefined;
});

/** A queue-like table: `rounds` times, 1,000 rows in and the previous 1,000 out; returns its size in pages. */
async function churn(client: PGlite, rounds: number, between: () => Promise<void>): Promise<number> {
  await client.exec('create table queue (id bigint generated always as identity primary key, body text not null)');
  for (let round = 0; round < rounds; round++) {
    await client.exec(`insert into queue (body) select repeat('x', 200) from generate_series(1, 1000)`);
    await client.exec(`delete from queue where id <= ${round * 1000}`);
    await between();
  }
  const { rows } = await client.query<{ pages: number }>(`select pg_relation_size('queue') / 8192 as pages`);
  return Number(rows[0]!.pages);
}

/** When `table` was last vacuumed (the task's runs are observed through `last_vacuum`). */
async function lastVacuum(client: PGlite, table: string): Promise<Date | null> {
  const { rows } = await client.query<{ at: Date | null }>(`select last_vacuum as at from pg_stat_all_tables where relid = $1::regclass`, [table]);
  return rows[0]?.at ?? null;
}

/** Resolves once `table` (default the churned queue) was vacuumed after now. */
async function nextVacuum(client: PGlite, table = 'queue'): Promise<void> {
  const since = Date.now();
  for (;;) {
    const at = await lastVacuum(client, table);
    if (at && at.getTime() >= since) return;
    await Bun.sleep(5);
  }
}

describe('PGlite vacuum task', () => {
  test('keeps a churning table near the size of its live rows; without it the table grows with every row', async () => {
    const unvacuumed = new PGlite();
    try {
      const grown = await churn(unvacuumed, 10, async () => {});
      // 10,000 rows of about 230 bytes, 1,000 of them live: no space was reused.
      expect(grown).toBeGreaterThan(250);
    } finally {
      await unvacuumed.close();
    }

    db = new PGlite();
    task = startPgliteVacuum(db, { intervalMs: 20 });
    const client = db;
    const kept = await churn(client, 10, () => nextVacuum(client));
    // 1,000 live rows take about 30 pages; the space of the deleted ones is reused round after round.
    expect(kept).toBeLessThan(100);
  }, 30_000);

  test('the catalogs are vacuumed only once the oldest unfrozen transaction passes the freeze age', async () => {
    db = new PGlite();
    await db.exec('create table queue (id bigint primary key)');
    task = startPgliteVacuum(db, { intervalMs: 20, catalogFreezeAge: 2_000_000_000 });
    await nextVacuum(db);
    await nextVacuum(db);
    expect(await lastVacuum(db, 'pg_class')).toBeNull();
    await task.stop();

    task = startPgliteVacuum(db, { intervalMs: 20, catalogFreezeAge: 1 });
    await nextVacuum(db, 'pg_class');
  }, 30_000);

  test('a failed run is reported, the next one still runs, and none runs after stop', async () => {
    const failures: unknown[] = [];
    db = new PGlite();
    await db.exec('select 1');
    task = startPgliteVacuum(db, { intervalMs: 10, onFailure: (error) => failures.push(error) });
    await db.close();
    while (failures.length < 2) await Bun.sleep(5);
    await task.stop();
    const reported = failures.length;
    await Bun.sleep(50);
    expect(failures.length).toBe(reported);
  }, 30_000);
});
