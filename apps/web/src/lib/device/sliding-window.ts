// A time window of numeric series for the live chart: points older than the window are dropped
// and a series disappears once it has no point left, so memory stays bounded however long the
// page stays open. Owns no drawing; `columns()` is uPlot's aligned-data shape.

export class SlidingWindow {
  #times: number[] = [];
  #series = new Map<string, (number | null)[]>();

  /**
   * @param windowS how many seconds of points are kept
   * @param maxPoints a hard cap as well, for devices that send faster than the chart can show
   */
  constructor(
    readonly windowS: number,
    readonly maxPoints: number,
  ) {}

  /** Adds one point at `timeS` (seconds); times that go backwards are clamped to keep the axis sorted. */
  push(timeS: number, fields: Map<string, number>): void {
    const last = this.#times.at(-1);
    const time = last !== undefined && timeS < last ? last : timeS;
    const length = this.#times.length;
    this.#times.push(time);
    for (const [name, column] of this.#series) column.push(fields.get(name) ?? null);
    for (const [name, value] of fields) {
      if (this.#series.has(name)) continue;
      const column: (number | null)[] = new Array(length).fill(null);
      column.push(value);
      this.#series.set(name, column);
    }
    if (this.#times.length > this.maxPoints) this.#dropFirst(this.#times.length - this.maxPoints);
  }

  /** Drops the points older than `nowS - windowS`, and the series left without any point. */
  prune(nowS: number): void {
    const oldest = nowS - this.windowS;
    let count = 0;
    while (count < this.#times.length && (this.#times[count] ?? 0) < oldest) count++;
    if (count > 0) this.#dropFirst(count);
  }

  #dropFirst(count: number): void {
    this.#times.splice(0, count);
    for (const [name, column] of this.#series) {
      column.splice(0, count);
      if (column.every((value) => value === null)) this.#series.delete(name);
    }
  }

  get size(): number {
    return this.#times.length;
  }

  /** Series names in the order they first appeared. */
  seriesNames(): string[] {
    return [...this.#series.keys()];
  }

  /** `[times, ...one column per series]`, copies safe to hand to the chart. */
  columns(): [number[], ...(number | null)[][]] {
    return [this.#times.slice(), ...[...this.#series.values()].map((column) => column.slice())];
  }
}
