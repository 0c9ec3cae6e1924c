/**
 * Fills a hub's event stream for the read scenarios: `count` 200-byte D2C messages from 100
 * devices over one MQTT publisher worker; returns how many the stream holds.
 * @module
 */

import type { PublisherConfig } from '../load/mqtt-publisher.ts';
import { deviceIds, PAYLOAD_200_BYTES, type BenchHub } from './bench-hub.ts';
import { withWorkers } from './workers.ts';

export async function fillEvents(bench: BenchHub, count: number): Promise<number> {
  const ids = deviceIds('fill', 100);
  await bench.createDevices(ids);
  const config: PublisherConfig = { target: bench.mqttTarget, deviceIds: ids, payload: PAYLOAD_200_BYTES, window: 20, durationMs: 120_000, maxMessages: count };
  await withWorkers([{ entry: 'mqtt-publisher.ts', config }], async ([worker]) => {
    worker!.send({ command: 'go' });
    return worker!.result;
  });
  return bench.countEvents();
}
