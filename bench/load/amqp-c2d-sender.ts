#!/usr/bin/env bun
/**
 * Load-generator worker: cloud-to-device sends as the official `azure-iothub` `Client` puts them
 * on the wire (digest §8), from raw rhea so the sender costs little of the 2 cores: CBS put-token
 * with a service SAS token for the hub's host, one sender link to `/messages/devicebound`, and
 * each message with `to` = `/devices/{id}/messages/devicebound` and its body in a data section,
 * sent unsettled, at most `window` awaiting their disposition, for `durationMs`. Each body carries
 * its send time for the receiving device's latency. Counts sends accepted (committed to the
 * device's queue) and refusals by AMQP error condition. The official client itself is tested
 * against the hub in apps/hub/test/e2e/amqp-service.test.ts.
 * @module
 */

import { sasRecipes } from '@tributary/core';
import rhea from 'rhea';
import { connectAmqp, putToken } from '../support/amqp-client.ts';
import { nextCommand, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface AmqpC2dSenderConfig {
  /** The hub's AMQPS port on localhost. */
  port: number;
  /** CA to trust for the hub's certificate. */
  ca: string;
  /** A shared access policy with ServiceConnect. */
  policy: { keyName: string; key: string };
  deviceIds: string[];
  /** Sends awaiting their disposition at most. */
  window: number;
  durationMs: number;
}

const body = () => rhea.message.data_section(Buffer.from(JSON.stringify({ sentAtMs: performance.timeOrigin + performance.now() })));

await runWorker(async () => {
  const config = await readConfig<AmqpC2dSenderConfig>();
  const host = `localhost:${config.port}`;
  const connection = connectAmqp(config.port, config.ca);
  await putToken(connection, host, sasRecipes.service(host, config.policy.keyName, config.policy.key, Math.floor(Date.now() / 1000) + 3600));
  const sender = connection.open_sender({ target: { address: '/messages/devicebound' } });
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
  const to = config.deviceIds.map((deviceId) => `/devices/${encodeURIComponent(deviceId)}/messages/devicebound`);
  // One send before `go`, so a failure shows before the measurement.
  await new Promise<void>((resolve, reject) => {
    sender.once('accepted', () => resolve());
    sender.once('rejected', (context) => reject(new Error(`the probe send was refused: ${context.delivery?.remote_state?.error?.condition}`)));
    sender.send({ to: to[0], body: body() });
  });

  const refusals: Record<string, number> = {};
  let ok = 0;
  let settled = 0;
  let sent = 0;
  /** Unset until `go`: nothing is sent, and the run is not over, before the measurement starts. */
  let deadline: number | undefined;
  let lastAt = 0;
  const done = Promise.withResolvers<void>();
  const next = () => {
    if (deadline === undefined) return;
    while (performance.now() < deadline && sent - settled < config.window && sender.sendable()) {
      sender.send({ to: to[sent % to.length], body: body() });
      sent++;
    }
    if (performance.now() >= deadline && settled === sent) done.resolve();
  };
  sender.on('accepted', () => {
    ok++;
    settled++;
    lastAt = performance.now();
    next();
  });
  sender.on('rejected', (context) => {
    const condition = String(context.delivery?.remote_state?.error?.condition ?? 'rejected');
    refusals[condition] = (refusals[condition] ?? 0) + 1;
    settled++;
    next();
  });
  sender.on('sendable', next);
  reportReady();

  await nextCommand();
  const startedAt = performance.now();
  lastAt = startedAt;
  deadline = startedAt + config.durationMs;
  next();
  await done.promise;
  connection.close();
  reportResult({ ok, refusals, elapsedMs: lastAt - startedAt });
});
