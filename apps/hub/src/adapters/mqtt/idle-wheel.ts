/**
 * One timer for the idle deadlines of every MQTT connection: the CONNECT timeout, then 1.5 × the
 * keepalive [MQTT-3.1.2-24]. A timer per connection cost a Timeout and its closures per idle
 * connection, and a new timer for every packet received. Here a packet only moves its
 * connection's deadline (a number) later; deadlines are filed in one-second buckets, and an entry
 * whose bucket comes due either expires or is filed again under its moved deadline. So an entry
 * expires within a second after its deadline, never before it.
 * @module
 */

import type { Clock } from '@tributary/core';

/** The wheel's resolution: how late after its deadline an entry may expire. */
export const IDLE_TICK_MS = 1000;

export interface IdleEntry {
  /** When the entry expires (clock milliseconds). Its owner may move it later without telling the wheel. */
  readonly idleDeadlineMs: number;
  /** The deadline passed. The wheel has let go of the entry by then. */
  idleExpired(): void;
}

/** One per hub: every MQTT connection's idle deadline, on one timer of the hub's clock. */
export class IdleWheel {
  readonly #clock: Clock;
  /** Entries by the tick (deadline / IDLE_TICK_MS, rounded up) at which they are checked. */
  readonly #buckets = new Map<number, Set<IdleEntry>>();
  readonly #tickOf = new Map<IdleEntry, number>();
  /** The tick the timer is set for; Infinity when it is not set. */
  #timerTick = Infinity;
  #cancelTimer: (() => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** How many entries are watched. */
  get size(): number {
    return this.#tickOf.size;
  }

  /**
   * Watches `entry` until its `idleDeadlineMs` passes. Call it again when the deadline moves
   * earlier; moving it later needs no call.
   */
  watch(entry: IdleEntry): void {
    this.unwatch(entry);
    const tick = this.#file(entry);
    if (tick < this.#timerTick) this.#setTimer(tick);
  }

  unwatch(entry: IdleEntry): void {
    const tick = this.#tickOf.get(entry);
    if (tick === undefined) return;
    this.#tickOf.delete(entry);
    const bucket = this.#buckets.get(tick)!;
    bucket.delete(entry);
    if (bucket.size === 0) this.#buckets.delete(tick);
  }

  #file(entry: IdleEntry): number {
    const tick = Math.ceil(entry.idleDeadlineMs / IDLE_TICK_MS);
    let bucket = this.#buckets.get(tick);
    if (!bucket) this.#buckets.set(tick, (bucket = new Set()));
    bucket.add(entry);
    this.#tickOf.set(entry, tick);
    return tick;
  }

  #setTimer(tick: number): void {
    this.#cancelTimer?.();
    this.#timerTick = tick;
    this.#cancelTimer = this.#clock.schedule(tick * IDLE_TICK_MS - this.#clock.now(), () => this.#onTimer());
  }

  #onTimer(): void {
    this.#timerTick = Infinity;
    this.#cancelTimer = undefined;
    const nowMs = this.#clock.now();
    // Every bucket due by now: a timer may fire late. Entries filed again land in later buckets.
    const dueTick = Math.floor(nowMs / IDLE_TICK_MS);
    for (const [tick, bucket] of this.#buckets) {
      if (tick > dueTick) continue;
      this.#buckets.delete(tick);
      for (const entry of bucket) {
        this.#tickOf.delete(entry);
        if (entry.idleDeadlineMs <= nowMs) entry.idleExpired();
        else this.#file(entry);
      }
    }
    let next = Infinity;
    for (const tick of this.#buckets.keys()) next = Math.min(next, tick);
    if (next < this.#timerTick) this.#setTimer(next);
  }
}
