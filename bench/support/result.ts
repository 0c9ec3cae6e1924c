/**
 * What a scenario reports, one row of the table per (scenario, storage), and how it is judged
 * against the targets.
 * @module
 */

import type { Storage } from '../../apps/hub/test/support/hub-process.ts';

export interface ScenarioResult {
  scenario: string;
  storage: Storage | 'mosquitto';
  /** The headline figure and its unit (msg/s, conn/s, calls/s, s, KiB/conn). */
  value: number;
  unit: string;
  p50Ms?: number;
  p99Ms?: number;
  /** Hub CPU over the measured window, % of one core (200 % = both cores). */
  hubCpuPercent?: number;
  hubPeakRssBytes?: number;
  /** The load-generator workers' CPU over the same window, % of one core. */
  loadCpuPercent?: number;
  target?: string;
  met?: boolean;
  /** Set when the scenario's correctness check failed (e.g. acknowledged messages missing). */
  failure?: string;
  details: Record<string, unknown>;
}

export interface ScenarioContext {
  storage: Storage;
  quick: boolean;
  /** How long the measured phase of a throughput scenario lasts. */
  durationMs: number;
  /** Figures shared between runs of one invocation (the Mosquitto baseline). */
  shared: Map<string, unknown>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Storages this scenario runs on; default every available one. */
  storages?: Storage[];
  run(context: ScenarioContext): Promise<ScenarioResult[]>;
}
