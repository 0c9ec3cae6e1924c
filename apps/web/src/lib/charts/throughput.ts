// Turning the hub's throughput points into uPlot's column data. uPlot's time scale counts in
// seconds; the hub's `t` is accepted in seconds or milliseconds.
import type { AlignedData } from 'uplot';

/** Epoch values above this are milliseconds (it is 1973 in ms, year 5138 in seconds). */
const MS_THRESHOLD = 1e11;

/** `[times in seconds, counts]` for uPlot, oldest first. */
export function toChartData(points: readonly { t: number; count: number }[]): AlignedData {
  return [points.map(({ t }) => (t > MS_THRESHOLD ? t / 1000 : t)), points.map(({ count }) => count)];
}
