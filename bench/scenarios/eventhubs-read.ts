/**
 * Reading the event stream over the Event Hub-compatible AMQP endpoint: one @azure/event-hubs
 * consumer (in the runner process) reads every partition from the start (maxBatchSize 500,
 * prefetch 2000) after a D2C fill.
 * @module
 */

import { EventHubConsumerClient, type Subscription } from '@azure/event-hubs';
import { withHub } from '../support/bench-hub.ts';
import { fillEvents } from '../support/fill.ts';
import { sampleProcess } from '../support/process-stats.ts';
import type { Scenario } from '../support/result.ts';

export const eventhubsRead: Scenario = {
  name: 'eventhubs-read',
  description: 'one @azure/event-hubs consumer reads every partition from the start (maxBatchSize 500, prefetch 2000) after a D2C fill',
  async run({ storage, quick }) {
    return withHub(storage, async (bench) => {
      const stored = await fillEvents(bench, quick ? 20_000 : 100_000);
      const consumer = new EventHubConsumerClient('$Default', bench.hub.info.eventHubCompatible.connectionString);
      let subscription: Subscription | undefined;
      try {
        let received = 0;
        const hubSampler = sampleProcess(bench.pid);
        const selfSampler = sampleProcess(process.pid);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`eventhubs-read: received ${received} of ${stored} in 120 s`)), 120_000);
          subscription = consumer.subscribe(
            {
              processEvents: async (events) => {
                received += events.length;
                if (received >= stored) {
                  clearTimeout(timer);
                  resolve();
                }
              },
              processError: async (error) => reject(error),
            },
            { startPosition: { sequenceNumber: 0, isInclusive: true }, maxBatchSize: 500, prefetchCount: 2000 },
          );
        });
        const hub = hubSampler.stop();
        const self = selfSampler.stop();
        return [
          {
            scenario: 'eventhubs-read',
            storage,
            value: received / hub.seconds,
            unit: 'msg/s',
            hubCpuPercent: hub.cpuPercent,
            hubPeakRssBytes: hub.peakRssBytes,
            loadCpuPercent: self.cpuPercent,
            target: '≥ 100,000 msg/s',
            met: received / hub.seconds >= 100_000,
            details: { received, stored, seconds: hub.seconds },
          },
        ];
      } finally {
        await subscription?.close();
        await consumer.close();
      }
    });
  },
};
