#!/usr/bin/env bun
/**
 * `bun run bench`: runs each scenario against a freshly started hub on PGlite and, when
 * DATABASE_URL is set, on PostgreSQL; prints one table (with each target and whether it was
 * met) and writes the figures to bench/results/<ISO date>.json.
 *
 *   bun run bench [--quick] [--scenario <name>] [--storage pglite|postgres]
 *
 * Load comes from worker processes in bench/load/ (see bench/scenarios/ for what each measures).
 * Exits 1 when a scenario failed or a correctness check (durability) did not hold.
 */

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sharedTestCa, type Storage, storages } from '../apps/hub/test/support/hub-process.ts';
import type { Scenario, ScenarioResult } from './support/result.ts';
import { printTable } from './support/table.ts';
import { startup } from './scenarios/startup.ts';
import { d2cMqtt } from './scenarios/d2c-mqtt.ts';
import { d2cAmqp } from './scenarios/d2c-amqp.ts';
import { d2cHttps } from './scenarios/d2c-https.ts';
import { connectionStorm } from './scenarios/connection-storm.ts';
import { idleConnections } from './scenarios/idle-connections.ts';
import { methodRtt } from './scenarios/method-rtt.ts';
import { c2d } from './scenarios/c2d.ts';
import { twinReported } from './scenarios/twin-reported.ts';
import { eventsReadRest } from './scenarios/events-read-rest.ts';
import { eventhubsRead } from './scenarios/eventhubs-read.ts';

const SCENARIOS: Scenario[] = [
  startup,
  d2cMqtt,
  d2cAmqp,
  d2cHttps,
  connectionStorm,
  idleConnections,
  methodRtt,
  c2d,
  twinReported,
  eventsReadRest,
  eventhubsRead,
];

function parseArgs(args: string[]) {
  const quick = args.includes('--quick');
  const at = args.indexOf('--scenario');
  const only = at >= 0 ? args[at + 1] : undefined;
  const storageAt = args.indexOf('--storage');
  const storage = storageAt >= 0 ? args[storageAt + 1] : undefined;
  if (args.includes('--help')) {
    console.log(`bun run bench [--quick] [--scenario <name>] [--storage pglite|postgres]\n\nScenarios:\n${SCENARIOS.map((s) => `  ${s.name.padEnd(18)} ${s.description}`).join('\n')}`);
    process.exit(0);
  }
  if (storage !== undefined && !storages().includes(storage as Storage)) {
    console.error(`--storage is one of ${storages().join(', ')}${process.env.DATABASE_URL ? '' : ' (postgres needs DATABASE_URL)'}`);
    process.exit(2);
  }
  return { quick, only, storage };
}

const { quick, only, storage: onlyStorage } = parseArgs(process.argv.slice(2));
const selected = SCENARIOS.filter((scenario) => !only || scenario.name === only);
if (selected.length === 0) {
  console.error(`Unknown scenario '${only}'. Scenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
if (!process.env.DATABASE_URL) console.warn('DATABASE_URL is not set: PostgreSQL runs are skipped.');
await sharedTestCa();

const durationMs = quick ? 3_000 : 10_000;
const shared = new Map<string, unknown>();
const results: ScenarioResult[] = [];
let hasFailed = false;
const startedAt = performance.now();
for (const scenario of selected) {
  for (const storage of storages().filter((s) => (!scenario.storages || scenario.storages.includes(s)) && (!onlyStorage || s === onlyStorage))) {
    process.stderr.write(`running ${scenario.name} on ${storage}…\n`);
    try {
      const rows = await scenario.run({ storage, quick, durationMs, shared });
      for (const row of rows) hasFailed ||= row.failure !== undefined;
      results.push(...rows);
    } catch (error) {
      hasFailed = true;
      console.error(`${scenario.name} on ${storage} failed:`, error);
      results.push({ scenario: scenario.name, storage, value: NaN, unit: '', met: false, failure: String(error).split('\n')[0]!, details: {} });
    }
  }
}

printTable(results);
console.log(`\ntotal ${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
const dir = join(import.meta.dir, 'results');
await mkdir(dir, { recursive: true });
const date = new Date().toISOString();
const file = join(dir, `${date.replaceAll(':', '-')}.json`);
await Bun.write(file, JSON.stringify({ date, quick, machine: { cpus: navigator.hardwareConcurrency }, results }, null, 2));
console.log(`written to ${file}`);
process.exit(hasFailed ? 1 : 0);
