/**
 * The check after every D2C run: acknowledged means durable, so the event stream must hold
 * every acknowledged message (and no more than were sent).
 * @module
 */

import type { BenchHub } from './bench-hub.ts';

/**
 * Returns a failure text when the stream holds fewer events than were acknowledged, or more than
 * acknowledged plus those in flight on connections that dropped; undefined when it matches.
 */
export async function verifyDurable(bench: BenchHub, acknowledged: number, unacknowledgedInFlight = 0): Promise<string | undefined> {
  const stored = await bench.countEvents();
  if (stored >= acknowledged && stored <= acknowledged + unacknowledgedInFlight) return undefined;
  const failure = `DURABILITY: the event stream holds ${stored} events, ${acknowledged} were acknowledged`;
  console.error(`\n*** ${failure} ***\n`);
  return failure;
}
