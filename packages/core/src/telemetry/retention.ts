/**
 * Time-based retention of the event stream (DESIGN.md §3: default 1 day, up to 7), pruned in
 * bulk on a schedule. Owns the limits and the timer; the store owns the delete.
 * @module
 */

import type { Clock } from '../clock.ts';
import { argumentInvalid } from '../errors.ts';
import type { Logger } from '../log.ts';

const HOUR_MS = 60 * 60 * 1000;

/** IoT Hub's default retention for the built-in endpoint. */
export const DEFAULT_RETENTION_MS = 24 * HOUR_MS;
/** IoT Hub's maximum retention for the built-in endpoint. */
export const MAX_RETENTION_MS = 7 * 24 * HOUR_MS;
/**
 * Often enough that a run deletes a small slice (5 minutes of a day), rarely enough that the
 * queries cost nothing.
 */
export const DEFAULT_RETENTION_INTERVAL_MS = 5 * 60 * 1000;

export interface RetentionOptions {
  /** Events older than this are deleted; 1 ms to 7 days, default 1 day. */
  retentionMs?: number;
  /** Time between runs; default 5 minutes. */
  intervalMs?: number;
}

/** Throws ArgumentInvalid unless `retentionMs` is an integer from 1 ms to 7 days. */
export function validateRetentionMs(retentionMs: number): number {
  if (!Number.isInteger(retentionMs) || retentionMs < 1 || retentionMs > MAX_RETENTION_MS) {
    throw argumentInvalid(`retentionMs must be an integer from 1 to ${MAX_RETENTION_MS} (7 days), got ${retentionMs}`);
  }
  return retentionMs;
}

export interface RetentionTask {
  /** Cancels future runs; a run in progress finishes. */
  stop(): void;
  /** Resolves when no run is in progress. */
  idle(): Promise<void>;
}

/**
 * Prunes once now and then every `intervalMs` on the clock's timer. Runs never overlap: a tick
 * that finds the previous run still going is skipped. Failures are logged, never thrown; the next
 * tick tries again.
 */
export function startRetentionTask(
  prune: (retentionMs: number) => Promise<number>,
  { retentionMs = DEFAULT_RETENTION_MS, intervalMs = DEFAULT_RETENTION_INTERVAL_MS }: RetentionOptions,
  { clock, logger }: { clock: Clock; logger: Logger },
): RetentionTask {
  validateRetentionMs(retentionMs);
  if (!Number.isInteger(intervalMs) || intervalMs < 1) {
    throw argumentInvalid(`intervalMs must be a positive integer, got ${intervalMs}`);
  }
  let running: Promise<void> | undefined;
  const run = () => {
    if (running) return;
    running = (async () => prune(retentionMs))()
      .then(
        (count) => {
          if (count > 0) logger.info('events_pruned', { count, retentionMs });
          else logger.debug('events_pruned', { count, retentionMs });
        },
        (error: unknown) => logger.error('event_retention_failed', { error }),
      )
      .finally(() => {
        running = undefined;
      });
  };
  let isStopped = false;
  let cancel: () => void;
  const tick = () => {
    run();
    if (!isStopped) cancel = clock.schedule(intervalMs, tick);
  };
  run();
  cancel = clock.schedule(intervalMs, tick);
  return {
    stop: () => {
      isStopped = true;
      cancel();
    },
    idle: async () => {
      while (running) await running;
    },
  };
}
