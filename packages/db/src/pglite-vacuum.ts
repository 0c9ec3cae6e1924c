/**
 * PGlite runs PostgreSQL in single-user mode, which has no autovacuum. Without it the space of
 * deleted and updated rows is never reused (a C2D queue of 500 live messages grew by 3 MB a second
 * under load, and every scan of it slowed with it), and no row is ever frozen, so after about two
 * billion transactions the database would stop accepting writes. This task does autovacuum's job
 * on an interval: each run vacuums the hub's tables one by one, and the whole database (the
 * system catalogs too) only once its oldest unfrozen transaction is `catalogFreezeAge` old, as
 * autovacuum does before wraparound. PGlite runs on the hub's thread and its other statements
 * wait while a VACUUM runs: a database-wide one stalled the hub 60 to 125 ms every run even with
 * nothing to clean, the catalogs taking most of it; one table at a time, with the event loop let
 * through between tables, each stall is one table's worth. Each VACUUM costs about what changed
 * since the previous one (pages already all-visible are skipped).
 * @module
 */

import type { PGlite } from '@electric-sql/pglite';

/**
 * Measured under `bun run bench` on PGlite: C2D at 5,500 messages a second leaves about 30 MB of
 * queue table between runs and a run takes about 110 ms; telemetry at 32,000 messages a second
 * makes a run take about 300 ms. Neither rate changed measurably with the task running.
 */
export const PGLITE_VACUUM_INTERVAL_MS = 10_000;

/** Half autovacuum's `autovacuum_freeze_max_age`: transactions before the catalogs are vacuumed too. */
export const PGLITE_CATALOG_FREEZE_AGE = 100_000_000;

/** The tables of every schema but the system's, as names VACUUM takes (quoted, schema-qualified). */
const OWN_TABLES = `
  select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind = 'r' and n.nspname <> 'information_schema' and left(n.nspname, 3) <> 'pg_'
  order by 1`;

export interface VacuumTask {
  /** Stops the timer and waits for a vacuum in progress. */
  stop(): Promise<void>;
}

async function vacuumOnce(client: PGlite, catalogFreezeAge: number, isStopped: () => boolean): Promise<void> {
  const { rows: ages } = await client.query<{ age: number }>(
    'select age(datfrozenxid)::float8 as age from pg_database where datname = current_database()',
  );
  if ((ages[0]?.age ?? 0) >= catalogFreezeAge) {
    await client.query('vacuum');
    return;
  }
  const { rows: tables } = await client.query<{ name: string }>(OWN_TABLES);
  for (const { name } of tables) {
    if (isStopped()) return;
    await client.query(`vacuum ${name}`);
    // Sockets and timers get their turn before the next table.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export function startPgliteVacuum(
  client: PGlite,
  options: { intervalMs?: number; catalogFreezeAge?: number; onFailure?: (error: unknown) => void } = {},
): VacuumTask {
  let running: Promise<void> | undefined;
  let isStopped = false;
  const timer = setInterval(() => {
    if (running) return;
    running = vacuumOnce(client, options.catalogFreezeAge ?? PGLITE_CATALOG_FREEZE_AGE, () => isStopped)
      .catch((error: unknown) => options.onFailure?.(error))
      .finally(() => {
        running = undefined;
      });
  }, options.intervalMs ?? PGLITE_VACUUM_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      isStopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
