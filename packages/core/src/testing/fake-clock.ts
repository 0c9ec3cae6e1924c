/**
 * A clock tests move by hand instead of sleeping: `advance` runs every scheduled callback that
 * falls due, in time order.
 * @module
 */

import type { Clock } from '../clock.ts';

interface Scheduled {
  at: number;
  order: number;
  callback: () => void;
}

export class FakeClock implements Clock {
  #scheduled: Scheduled[] = [];
  #order = 0;

  constructor(private nowMs = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.nowMs;
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const entry = { at: this.nowMs + Math.max(0, delayMs), order: this.#order++, callback };
    this.#scheduled.push(entry);
    return () => {
      this.#scheduled = this.#scheduled.filter((scheduled) => scheduled !== entry);
    };
  }

  advance(ms: number): void {
    const target = this.nowMs + ms;
    for (;;) {
      const due = this.#scheduled.filter((s) => s.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.#scheduled = this.#scheduled.filter((s) => s !== due);
      this.nowMs = Math.max(this.nowMs, due.at);
      due.callback();
    }
    this.nowMs = target;
  }

  /** How many callbacks are waiting. */
  get pendingCount(): number {
    return this.#scheduled.length;
  }
}
