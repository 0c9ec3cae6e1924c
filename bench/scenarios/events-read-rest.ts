/**
 * Reading the event stream over REST: `GET /events/partitions/{p}?fromSequenceNumber&maxCount=1000`
 * pages, every partition read concurrently from the start, after filling it with D2C messages.
 * (The hub also offers `GET /events/live` as SSE, which only carries new events.)
 * @module
 */

import { withHub } from '../support/bench-hub.ts';
import { fillEvents } from '../support/fill.ts';
import { sampleProcess } from '../support/process-stats.ts';
import type { Scenario } from '../support/result.ts';

export const eventsReadRest: Scenario = {
  name: 'events-read-rest',
  description: 'read the event stream over REST pages (maxCount 1000), all partitions concurrently, after a D2C fill',
  async run({ storage, quick }) {
    return withHub(storage, async (bench) => {
      const stored = await fillEvents(bench, quick ? 20_000 : 100_000);
      const authorization = bench.serviceToken();
      const partitions = (await (await bench.hub.fetch('/events/partitions', { headers: { authorization } })).json()) as {
        partitionId: string;
        beginningSequenceNumber: number;
        lastEnqueuedSequenceNumber: number;
        isEmpty: boolean;
      }[];
      const hubSampler = sampleProcess(bench.pid);
      const selfSampler = sampleProcess(process.pid);
      let read = 0;
      await Promise.all(
        partitions
          .filter((p) => !p.isEmpty)
          .map(async (p) => {
            let next = p.beginningSequenceNumber;
            while (next <= p.lastEnqueuedSequenceNumber) {
              const response = await bench.hub.fetch(`/events/partitions/${p.partitionId}?fromSequenceNumber=${next}&maxCount=1000`, { headers: { authorization } });
              if (!response.ok) throw new Error(`reading partition ${p.partitionId}: ${response.status} ${await response.text()}`);
              const page = (await response.json()) as { events: unknown[]; nextSequenceNumber: number };
              read += page.events.length;
              if (page.nextSequenceNumber <= next) break;
              next = page.nextSequenceNumber;
            }
          }),
      );
      const hub = hubSampler.stop();
      const self = selfSampler.stop();
      const rate = read / hub.seconds;
      const failure = read === stored ? undefined : `events-read-rest: read ${read} of ${stored} events`;
      return [
        {
          scenario: 'events-read-rest',
          storage,
          value: rate,
          unit: 'msg/s',
          hubCpuPercent: hub.cpuPercent,
          hubPeakRssBytes: hub.peakRssBytes,
          loadCpuPercent: self.cpuPercent,
          target: '≥ 100,000 msg/s',
          met: rate >= 100_000 && !failure,
          failure,
          details: { read, stored, seconds: hub.seconds },
        },
      ];
    });
  },
};
