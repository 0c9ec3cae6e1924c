/**
 * Runs the measured phase of a scenario: samples the hub process, sends `go` to the workers
 * and collects their results, merged latency histogram and CPU.
 * @module
 */

import { Histogram, type SparseHistogram } from './histogram.ts';
import { sampleProcess, type ProcessStats } from './process-stats.ts';
import type { Worker, WorkerResult } from './workers.ts';

export interface Measurement {
  results: WorkerResult[];
  histogram: Histogram;
  hub: ProcessStats;
  /** Sum of the workers' CPU since `go` over the window, % of one core. */
  loadCpuPercent: number;
}

export function mergeHistograms(results: WorkerResult[]): Histogram {
  const histogram = new Histogram();
  for (const result of results) if (result.histogram) histogram.merge(result.histogram as SparseHistogram);
  return histogram;
}

/**
 * Sends `go` to every worker, then waits for `finish(workers)` (default: every worker's result).
 * Workers that need a `stop` are stopped by `finish`.
 */
export async function measure(
  hubPid: number,
  workers: Worker[],
  finish: (workers: Worker[]) => Promise<WorkerResult[]> = (all) => Promise.all(all.map((worker) => worker.result)),
): Promise<Measurement> {
  const sampler = sampleProcess(hubPid);
  for (const worker of workers) worker.send({ command: 'go' });
  const results = await finish(workers);
  const hub = sampler.stop();
  const cpuMs = results.reduce((sum, result) => sum + (result.cpuMs ?? 0), 0);
  return { results, histogram: mergeHistograms(results), hub, loadCpuPercent: (100 * cpuMs) / 1000 / hub.seconds };
}

/** The columns every measured row shows: latency percentiles, hub CPU and peak RSS, load-generator CPU. */
export function measuredFigures(m: Measurement) {
  return {
    p50Ms: m.histogram.percentileMs(50),
    p99Ms: m.histogram.percentileMs(99),
    hubCpuPercent: m.hub.cpuPercent,
    hubPeakRssBytes: m.hub.peakRssBytes,
    loadCpuPercent: m.loadCpuPercent,
  };
}

export const sum = (results: WorkerResult[], key: string): number => results.reduce((total, result) => total + Number(result[key] ?? 0), 0);
export const maxOf = (results: WorkerResult[], key: string): number => Math.max(...results.map((result) => Number(result[key] ?? 0)));
