/**
 * A clock tests move by hand instead of sleeping.
 * @module
 */

import type { Clock } from '../clock.ts';

export class FakeClock implements Clock {
  constructor(private nowMs = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.nowMs;
  }
  advance(ms: number): void {
    this.nowMs += ms;
  }
}
