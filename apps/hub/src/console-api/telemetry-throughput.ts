/**
 * Device-to-cloud throughput for the console: committed telemetry counted per second over the
 * last few minutes (the overview chart) and since midnight UTC (the "messages today" figure,
 * read from the event store once, then kept up to date from the pipeline). Only telemetry counts,
 * not the hub's own lifecycle or connection events.
 * @module
 */

import type { Clock, EventPipeline, EventRecord, EventStore } from '@tributary/core';

export const THROUGHPUT_WINDOW_SECONDS = 300;
const DAY_MS = 24 * 60 * 60 * 1000;

export class TelemetryThroughput {
  /** counts[s % window] is the count of second `s` (epoch seconds) when seconds[s % window] === s. */
  readonly #counts = new Uint32Array(THROUGHPUT_WINDOW_SECONDS);
  readonly #seconds = new Float64Array(THROUGHPUT_WINDOW_SECONDS).fill(-1);
  #dayStart = 0;
  #today = 0;
  #unsubscribe: () => void = () => {};

  constructor(private readonly deps: { pipeline: EventPipeline; store: EventStore; clock: Clock }) {}

  /** Counts from now on; today's count starts from what the store holds since midnight. */
  async start(): Promise<void> {
    this.#unsubscribe = this.deps.pipeline.subscribe((events) => this.#committed(events));
    const dayStart = Math.floor(this.deps.clock.now() / DAY_MS) * DAY_MS;
    const stored = await this.deps.store.countSince(dayStart);
    // Events committed while counting may be in both figures; the store's count is the truth then.
    if (this.#dayStart !== dayStart) this.#today = 0;
    this.#dayStart = dayStart;
    this.#today = Math.max(this.#today, stored);
  }

  stop(): void {
    this.#unsubscribe();
  }

  #committed(events: readonly EventRecord[]): void {
    const now = this.deps.clock.now();
    const second = Math.floor(now / 1000);
    const slot = second % THROUGHPUT_WINDOW_SECONDS;
    if (this.#seconds[slot] !== second) {
      this.#seconds[slot] = second;
      this.#counts[slot] = 0;
    }
    const telemetry = events.filter((event) => event.messageSource === 'Telemetry').length;
    this.#counts[slot]! += telemetry;
    this.#rollDay(now);
    this.#today += telemetry;
  }

  #rollDay(now: number): void {
    const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
    if (dayStart !== this.#dayStart) {
      this.#dayStart = dayStart;
      this.#today = 0;
    }
  }

  /** Telemetry committed since midnight UTC. */
  get messagesToday(): number {
    this.#rollDay(this.deps.clock.now());
    return this.#today;
  }

  /** One point per second for the last `seconds` full seconds, oldest first, zeros included. */
  perSecond(seconds: number): { t: number; count: number }[] {
    const span = Math.max(1, Math.min(THROUGHPUT_WINDOW_SECONDS - 1, Math.floor(seconds)));
    const current = Math.floor(this.deps.clock.now() / 1000);
    const points: { t: number; count: number }[] = [];
    for (let second = current - span; second < current; second++) {
      const slot = second % THROUGHPUT_WINDOW_SECONDS;
      points.push({ t: second * 1000, count: this.#seconds[slot] === second ? this.#counts[slot]! : 0 });
    }
    return points;
  }
}
