import { describe, expect, test } from 'bun:test';
import type { Clock } from '@tributary/core';
import { FakeClock } from '@tributary/core/testing';
import { IDLE_TICK_MS, type IdleEntry, IdleWheel } from './idle-wheel.ts';

/** An entry whose deadline the test moves, recording when it expired. */
class Entry implements IdleEntry {
  expiredAtMs: number | undefined;
  constructor(
    private readonly clock: Clock,
    public idleDeadlineMs: number,
  ) {}
  idleExpired(): void {
    this.expiredAtMs = this.clock.now();
  }
}

function setUp() {
  const clock = new FakeClock();
  const wheel = new IdleWheel(clock);
  const start = clock.now();
  const watched = (deadlineAfterMs: number) => {
    const entry = new Entry(clock, start + deadlineAfterMs);
    wheel.watch(entry);
    return entry;
  };
  return { clock, wheel, start, watched };
}

describe('IdleWheel', () => {
  test('an entry expires at its deadline when the deadline falls on a tick, and not a millisecond before', () => {
    const { clock, wheel, start, watched } = setUp();
    const entry = watched(90_000);
    clock.advance(89_999);
    expect(entry.expiredAtMs).toBeUndefined();
    clock.advance(1);
    expect(entry.expiredAtMs).toBe(start + 90_000);
    expect(wheel.size).toBe(0);
  });

  test('an entry whose deadline falls between ticks expires at the next tick', () => {
    const { clock, start, watched } = setUp();
    const entry = watched(1_500);
    clock.advance(1_999);
    expect(entry.expiredAtMs).toBeUndefined();
    clock.advance(1);
    expect(entry.expiredAtMs).toBe(start + 2 * IDLE_TICK_MS);
  });

  test('a deadline moved later without telling the wheel is honoured', () => {
    const { clock, start, watched } = setUp();
    const entry = watched(10_000);
    clock.advance(8_000);
    entry.idleDeadlineMs = clock.now() + 10_000;
    clock.advance(10_000 - 1);
    expect(entry.expiredAtMs).toBeUndefined();
    clock.advance(1);
    expect(entry.expiredAtMs).toBe(start + 18_000);
  });

  test('watching again after moving a deadline earlier expires the entry at the earlier deadline', () => {
    const { clock, wheel, start, watched } = setUp();
    const entry = watched(10_000);
    entry.idleDeadlineMs = start + 3_000;
    wheel.watch(entry);
    clock.advance(3_000);
    expect(entry.expiredAtMs).toBe(start + 3_000);
  });

  test('an unwatched entry never expires and is let go of', () => {
    const { clock, wheel, watched } = setUp();
    const entry = watched(5_000);
    wheel.unwatch(entry);
    expect(wheel.size).toBe(0);
    clock.advance(60_000);
    expect(entry.expiredAtMs).toBeUndefined();
  });

  test('a thousand entries share one timer, and no timer is left once none is watched', () => {
    const { clock, wheel, watched } = setUp();
    const entries = Array.from({ length: 1000 }, (_, i) => watched(1_000 + i * 37));
    expect(wheel.size).toBe(1000);
    expect(clock.pendingCount).toBe(1);
    clock.advance(60_000);
    expect(entries.every((entry) => entry.expiredAtMs !== undefined && entry.expiredAtMs >= entry.idleDeadlineMs)).toBe(true);
    expect(entries.every((entry) => entry.expiredAtMs! - entry.idleDeadlineMs < IDLE_TICK_MS)).toBe(true);
    expect(clock.pendingCount).toBe(0);
  });

  test('a timer that fires late expires every entry that came due meanwhile', () => {
    let fire: (() => void) | undefined;
    let nowMs = 1_000_000;
    const lateClock: Clock = {
      now: () => nowMs,
      schedule(_delayMs, callback) {
        fire = callback;
        return () => (fire = undefined);
      },
    };
    const wheel = new IdleWheel(lateClock);
    const early = new Entry(lateClock, nowMs + 1_000);
    const later = new Entry(lateClock, nowMs + 5_000);
    const notYet = new Entry(lateClock, nowMs + 9_000);
    for (const entry of [early, later, notYet]) wheel.watch(entry);
    nowMs += 7_000;
    fire!();
    expect([early.expiredAtMs, later.expiredAtMs, notYet.expiredAtMs]).toEqual([nowMs, nowMs, undefined]);
    expect(wheel.size).toBe(1);
    expect(fire).toBeDefined();
  });
});
