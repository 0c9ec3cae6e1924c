/**
 * Idle connections: 10,000 MQTT-over-TLS device connections (1,000 with --quick) opened by 2
 * worker processes and held; reports the hub's RSS growth per connection (RSS after the
 * connections settled minus RSS before, both after provisioning).
 * @module
 */

import type { IdleConfig } from '../load/mqtt-idle.ts';
import { deviceIds, withHub } from '../support/bench-hub.ts';
import { cpuTicks, rssBytes } from '../support/process-stats.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const WORKERS = 2;
const SETTLE_MS = 3000;

async function fileDescriptorLimit(): Promise<number> {
  const text = await new Response(Bun.spawn(['sh', '-c', 'ulimit -Hn'], { stdout: 'pipe' }).stdout).text();
  return text.trim() === 'unlimited' ? Infinity : Number(text);
}

export const idleConnections: Scenario = {
  name: 'idle-connections',
  description: 'hold 10,000 idle MQTT-over-TLS connections (1,000 with --quick); hub RSS per connection',
  async run({ storage, quick }) {
    const limit = await fileDescriptorLimit();
    const wanted = quick ? 1000 : 10_000;
    // The hub and each worker hold one descriptor per connection, plus some of their own.
    const count = Math.min(wanted, Math.floor(limit - 500));
    if (count < wanted) console.warn(`idle-connections: the file-descriptor limit (${limit}) allows only ${count} connections`);
    return withHub(storage, async (bench) => {
      const ids = deviceIds('idle', count);
      await bench.createDevices(ids);
      const specs = split(ids, WORKERS).map((slice) => ({
        entry: 'mqtt-idle.ts',
        config: { target: bench.mqttTarget, deviceIds: slice, concurrency: 32 } satisfies IdleConfig,
      }));
      return withWorkers(specs, async (workers) => {
        await Bun.sleep(SETTLE_MS);
        const before = rssBytes(bench.pid);
        const startedAt = performance.now();
        const ticksBefore = cpuTicks(bench.pid);
        for (const worker of workers) worker.send({ command: 'go' });
        const opened = await Promise.all(workers.map((worker) => worker.waitFor('opened')));
        const openSeconds = (performance.now() - startedAt) / 1000;
        const cpuPercent = (cpuTicks(bench.pid) - ticksBefore) / openSeconds;
        await Bun.sleep(SETTLE_MS);
        const after = rssBytes(bench.pid);
        for (const worker of workers) worker.send({ command: 'stop' });
        const results = await Promise.all(workers.map((worker) => worker.result));
        const held = opened.reduce((total, o) => total + Number(o.connections), 0);
        const dropped = results.reduce((total, r) => total + Number(r.dropped), 0);
        const perConnectionKiB = (after - before) / 1024 / held;
        return [
          {
            scenario: 'idle-connections',
            storage,
            value: perConnectionKiB,
            unit: 'KiB/conn',
            hubCpuPercent: cpuPercent,
            hubPeakRssBytes: after,
            target: '≤ 20 KB/conn',
            met: perConnectionKiB * 1024 <= 20_000 && dropped === 0,
            ...(dropped > 0 ? { failure: `${dropped} idle connections were dropped` } : {}),
            details: { held, dropped, rssBeforeBytes: before, rssAfterBytes: after, openedPerSecond: held / openSeconds, fileDescriptorLimit: limit },
          },
        ];
      });
    });
  },
};
