/**
 * Retention through the pipeline: pruning by age on the fake clock, and the schedule driven by
 * advancing that clock, so no test waits for a timer.
 */

import { describe, expect, test } from 'bun:test';
import type { LogFields, Logger } from '../log.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { MemoryEventStore } from '../testing/memory-event-store.ts';
import { EventPipeline } from './event-pipeline.ts';
import type { EventInput } from './event-input.ts';
import { DEFAULT_RETENTION_INTERVAL_MS, DEFAULT_RETENTION_MS, MAX_RETENTION_MS } from './retention.ts';

const HOUR = 3600_000;

const input = (deviceId: string): EventInput => ({
  deviceId,
  moduleId: null,
  messageSource: 'Telemetry',
  systemProperties: {},
  applicationProperties: {},
  body: new Uint8Array([1, 2, 3]),
});

/** Lets every pending promise callback run (no timers involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function recordingLogger(): Logger & { events: string[] } {
  const events: string[] = [];
  const at = (level: string) => (event: string, _fields?: LogFields) => events.push(`${level}:${event}`);
  const logger = { events, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

async function setup() {
  const store = new MemoryEventStore();
  const clock = new FakeClock(Date.UTC(2026, 5, 1));
  const logger = recordingLogger();
  const pipeline = new EventPipeline({ store, clock, logger });
  await pipeline.start();
  return { store, clock, logger, pipeline };
}

/** Events retained over all four partitions. */
const retained = async (store: MemoryEventStore) =>
  (await store.partitionHeads(4)).reduce(
    (sum, h) => sum + (h.isEmpty ? 0 : h.lastEnqueuedSequenceNumber - h.beginningSequenceNumber + 1),
    0,
  );

describe('retention', () => {
  test('pruneOlderThan deletes events older than the retention, measured on the clock', async () => {
    const { store, clock, pipeline } = await setup();
    await pipeline.append(input('old'));
    clock.advance(2 * HOUR);
    await pipeline.append(input('new'));
    clock.advance(HOUR);
    expect(await pipeline.pruneOlderThan(2 * HOUR)).toBe(1);
    expect(await retained(store)).toBe(1);
  });

  test('startRetention prunes at once, then every interval on the clock', async () => {
    const { store, clock, pipeline, logger } = await setup();
    const MINUTE = 60_000;
    await pipeline.append(input('a'));
    clock.advance(10 * MINUTE + 1);
    await pipeline.append(input('b'));
    pipeline.startRetention({ retentionMs: 10 * MINUTE, intervalMs: MINUTE });
    await settle();
    expect(await retained(store)).toBe(1);
    expect(logger.events).toContain('info:events_pruned');
    for (let minute = 1; minute <= 10; minute++) {
      clock.advance(MINUTE);
      await settle();
    }
    expect(await retained(store)).toBe(1);
    clock.advance(MINUTE);
    await settle();
    expect(await retained(store)).toBe(0);
  });

  test('the default schedule keeps one day of events and runs every five minutes', async () => {
    const { clock, pipeline } = await setup();
    let cutoffs: number[] = [];
    const started = clock.now();
    pipeline.pruneOlderThan = async (retentionMs) => {
      cutoffs.push(clock.now() - retentionMs);
      return 0;
    };
    pipeline.startRetention();
    await settle();
    clock.advance(DEFAULT_RETENTION_INTERVAL_MS);
    await settle();
    expect(cutoffs).toEqual([started - DEFAULT_RETENTION_MS, started + DEFAULT_RETENTION_INTERVAL_MS - DEFAULT_RETENTION_MS]);
    cutoffs = [];
    await pipeline.close();
    clock.advance(DEFAULT_RETENTION_INTERVAL_MS);
    expect(cutoffs).toEqual([]);
  });

  test('a stopped schedule prunes nothing more, and close cancels what is left', async () => {
    const { clock, pipeline } = await setup();
    const stop = pipeline.startRetention({ retentionMs: HOUR, intervalMs: 1000 });
    pipeline.startRetention({ retentionMs: HOUR, intervalMs: 5000 });
    expect(clock.pendingCount).toBe(2);
    stop();
    expect(clock.pendingCount).toBe(1);
    await pipeline.close();
    expect(clock.pendingCount).toBe(0);
  });

  test('a failing prune is logged and the next tick tries again', async () => {
    const { store, clock, pipeline, logger } = await setup();
    let failures = 1;
    const prune = store.pruneBefore.bind(store);
    store.pruneBefore = async (beforeTime) => {
      if (failures-- > 0) throw new Error('db down');
      return prune(beforeTime);
    };
    pipeline.startRetention({ intervalMs: 1000 });
    await settle();
    expect(logger.events).toEqual(expect.arrayContaining(['error:event_retention_failed']));
    clock.advance(1000);
    await pipeline.close();
    expect(logger.events.filter((e) => e.endsWith(':events_pruned'))).toHaveLength(1);
  });

  test('retention above 7 days or below 1 ms, or a non-positive interval, is refused with ArgumentInvalid', async () => {
    const { pipeline } = await setup();
    expect(() => pipeline.startRetention({ retentionMs: MAX_RETENTION_MS + 1 })).toThrow(/retentionMs/);
    expect(() => pipeline.startRetention({ retentionMs: 0 })).toThrow(/retentionMs/);
    expect(() => pipeline.startRetention({ intervalMs: 0 })).toThrow(/intervalMs/);
  });
});
