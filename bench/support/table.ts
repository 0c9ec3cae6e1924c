/**
 * The one table `bun run bench` prints (Markdown, so it pastes into issues), plus the
 * Tributary / Mosquitto ratio line of the D2C MQTT runs.
 * @module
 */

import type { ScenarioResult } from './result.ts';

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const mib = (bytes: number | undefined) => (bytes === undefined ? '' : `${fmt(bytes / 1024 / 1024, 0)} MiB`);

export function printTable(results: ScenarioResult[]): void {
  const lines = [
    '| scenario | storage | figure | p50 ms | p99 ms | hub CPU % | hub peak RSS | load gen CPU % | target | met? |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const figure = Number.isNaN(r.value) ? '' : `${fmt(r.value, r.value < 100 ? 2 : 0)} ${r.unit}`;
    const met = r.failure ? `FAILED: ${r.failure}` : r.met === undefined ? '' : r.met ? 'met' : 'missed';
    lines.push(
      `| ${r.scenario} | ${r.storage} | ${figure} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.hubCpuPercent, 0)} | ${mib(r.hubPeakRssBytes)} | ${fmt(r.loadCpuPercent, 0)} | ${r.target ?? ''} | ${met} |`,
    );
  }
  console.log(`\n${lines.join('\n')}`);
  const mosquitto = results.find((r) => r.scenario === 'd2c-mqtt' && r.storage === 'mosquitto');
  if (mosquitto) {
    for (const r of results.filter((r) => r.scenario === 'd2c-mqtt' && r.storage !== 'mosquitto' && !Number.isNaN(r.value))) {
      console.log(`\nTributary (${r.storage}) / Mosquitto, D2C MQTT QoS 1: ${fmt(r.value, 0)} / ${fmt(mosquitto.value, 0)} msg/s = ${(r.value / mosquitto.value).toFixed(2)}`);
    }
  }
}
