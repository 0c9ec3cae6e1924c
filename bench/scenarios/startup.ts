/**
 * Hub start to ready (hub.json written and the banner printed) on a fresh data dir, and idle
 * RSS 2 s later. The target is for embedded PGlite; PostgreSQL is reported.
 * @module
 */

import { startBenchHub } from '../support/bench-hub.ts';
import { rssBytes } from '../support/process-stats.ts';
import type { Scenario } from '../support/result.ts';

export const startup: Scenario = {
  name: 'startup',
  description: 'hub start to ready on a fresh data dir, and idle RSS 2 s later',
  async run({ storage }) {
    const t0 = performance.now();
    const bench = await startBenchHub(storage);
    try {
      const seconds = (performance.now() - t0) / 1000;
      await Bun.sleep(2000);
      const idle = rssBytes(bench.pid);
      const isPglite = storage === 'pglite';
      return [
        {
          scenario: 'startup',
          storage,
          value: seconds,
          unit: 's to ready',
          hubPeakRssBytes: idle,
          target: isPglite ? '≤ 3 s; idle RSS ≤ 150 MB' : 'reported',
          ...(isPglite ? { met: seconds <= 3 && idle <= 150 * 1000 * 1000 } : {}),
          details: { idleRssBytes: idle },
        },
      ];
    } finally {
      await bench.stop();
    }
  },
};
