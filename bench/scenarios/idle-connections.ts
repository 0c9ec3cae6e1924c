/**
 * Idle connections: 10,000 MQTT-over-TLS device connections (1,000 with --quick) opened by 2
 * worker processes and held; reports the hub's RSS growth per connection. Both RSS readings are
 * taken the same way on either storage: after a full garbage collection of the hub's heap
 * (without it, the reading depends on whether JSC happened to collect yet), and with the hub
 * warmed up by a few connections opened and closed first (without that, compiling the connect
 * path and filling statement caches counts as per-connection memory).
 * @module
 */

import { deviceConnectPacket } from '../load/device-target.ts';
import { MqttConnection } from '../load/mqtt-connection.ts';
import type { IdleConfig } from '../load/mqtt-idle.ts';
import { DISCONNECT_PACKET } from '../load/mqtt-wire.ts';
import { type BenchHub, deviceIds, withHub } from '../support/bench-hub.ts';
import { cpuTicks } from '../support/process-stats.ts';
import type { Scenario } from '../support/result.ts';
import { split, withWorkers } from '../support/workers.ts';

const WORKERS = 2;
const SETTLE_MS = 3000;
/** Few, so what they leave for the held connections to reuse flatters the figure by 1 % (10 % with --quick) at most. */
const WARMUP_CONNECTIONS = 100;
const WARMUP_CONCURRENCY = 20;

async function fileDescriptorLimit(): Promise<number> {
  const text = await new Response(Bun.spawn(['sh', '-c', 'ulimit -Hn'], { stdout: 'pipe' }).stdout).text();
  return text.trim() === 'unlimited' ? Infinity : Number(text);
}

/** Opens a connection for each of `ids` (a batch at a time) and closes it again with DISCONNECT. */
async function warmUp(bench: BenchHub, ids: string[]): Promise<void> {
  const target = bench.mqttTarget;
  for (let i = 0; i < ids.length; i += WARMUP_CONCURRENCY) {
    const batch = ids.slice(i, i + WARMUP_CONCURRENCY);
    const connections = await Promise.all(batch.map((id) => MqttConnection.open(target.endpoint, deviceConnectPacket(target, id, { keepaliveS: 1200 }))));
    for (const connection of connections) connection.close(DISCONNECT_PACKET);
  }
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
        await warmUp(bench, ids.slice(0, WARMUP_CONNECTIONS));
        await Bun.sleep(SETTLE_MS);
        const before = await bench.settledRssBytes();
        const startedAt = performance.now();
        const ticksBefore = cpuTicks(bench.pid);
        for (const worker of workers) worker.send({ command: 'go' });
        const opened = await Promise.all(workers.map((worker) => worker.waitFor('opened')));
        const openSeconds = (performance.now() - startedAt) / 1000;
        const cpuPercent = (cpuTicks(bench.pid) - ticksBefore) / openSeconds;
        await Bun.sleep(SETTLE_MS);
        const after = await bench.settledRssBytes();
        for (const worker of workers) worker.send({ command: 'stop' });
        const results = await Promise.all(workers.map((worker) => worker.result));
        // The workers still hold their connections (until withWorkers ends them).
        bench.profileHeapNow();
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
