import { afterEach, expect, test } from 'bun:test';
import { EventPipeline, type EventInput } from '@tributary/core';
import { FakeClock, MemoryEventStore } from '@tributary/core/testing';
import { TelemetryThroughput } from './telemetry-throughput.ts';

const pipelines: EventPipeline[] = [];
afterEach(async () => {
  for (const pipeline of pipelines.splice(0)) await pipeline.close();
});

async function setUp(nowMs: number) {
  const clock = new FakeClock(nowMs);
  const store = new MemoryEventStore();
  const pipeline = new EventPipeline({ store, clock });
  pipelines.push(pipeline);
  await pipeline.start();
  return { clock, store, pipeline };
}

const telemetry = (deviceId: string): EventInput => ({
  deviceId,
  moduleId: null,
  messageSource: 'Telemetry',
  body: new Uint8Array([1]),
  applicationProperties: {},
  systemProperties: {},
});

test('committed telemetry is counted per second, oldest first with zeros, and since midnight including what was stored before', async () => {
  const midnight = Date.UTC(2026, 10, 22);
  const { clock, store, pipeline } = await setUp(midnight + 5_000);
  await pipeline.append(telemetry('before-start'));
  const throughput = new TelemetryThroughput({ pipeline, store, clock });
  await throughput.start();
  expect(throughput.messagesToday).toBe(1);

  await Promise.all([pipeline.append(telemetry('d')), pipeline.append(telemetry('d'))]);
  clock.advance(2_000);
  await pipeline.append(telemetry('d'));
  clock.advance(1_000);
  const points = throughput.perSecond(4);
  expect(points.map((point) => point.t)).toEqual([4, 5, 6, 7].map((s) => midnight + s * 1000));
  expect(points.map((point) => point.count)).toEqual([0, 2, 0, 1]);
  expect(throughput.messagesToday).toBe(4);

  clock.advance(24 * 60 * 60 * 1000);
  expect(throughput.messagesToday).toBe(0);
  throughput.stop();
});
