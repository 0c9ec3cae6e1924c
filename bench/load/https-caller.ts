#!/usr/bin/env bun
/**
 * Load-generator worker: HTTPS requests with keep-alive and at most `concurrency` in flight, for
 * `durationMs`; latency is request → response. With `ratePerSecond` the calls are paced (open
 * loop): call n is due n / rate seconds after `go`, and its latency counts from when it was due,
 * so a hub that falls behind shows in the latency instead of slowing the callers down. Kinds:
 * - `d2c`: `POST /devices/{id}/messages/events` with the device's SAS token (HTTPS device API);
 * - `method`: `POST /twins/{id}/methods` (service), expecting 200 with the device's status 200;
 * - `c2d`: `POST /devices/{id}/messages/deviceBound` (service); the body carries the send time.
 * @module
 */

import { sasRecipes } from '@tributary/core';
import { Histogram } from '../support/histogram.ts';
import { nextCommand, readConfig, reportReady, reportResult, runWorker } from './worker-io.ts';

export interface HttpsCallerConfig {
  kind: 'd2c' | 'method' | 'c2d';
  baseUrl: string;
  ca: string;
  hostName: string;
  deviceIds: string[];
  /** Device key (d2c) or a service token (method, c2d). */
  deviceKey?: string;
  serviceToken?: string;
  payload: string;
  concurrency: number;
  /** Calls started per second, paced; without it each of the `concurrency` loops calls again at once. */
  ratePerSecond?: number;
  durationMs: number;
}

await runWorker(async () => {
  const config = await readConfig<HttpsCallerConfig>();
  const histogram = new Histogram();
  const statuses: Record<string, number> = {};
  let ok = 0;
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const deviceTokens = config.deviceIds.map((id) => (config.deviceKey ? sasRecipes.device(config.hostName, id, config.deviceKey, expiry) : ''));
  const request = (index: number): [string, RequestInit & { tls: { ca: string } }] => {
    const deviceId = config.deviceIds[index % config.deviceIds.length]!;
    const id = encodeURIComponent(deviceId);
    const tls = { ca: config.ca };
    switch (config.kind) {
      case 'd2c':
        return [
          `${config.baseUrl}/devices/${id}/messages/events?api-version=2021-04-12`,
          { method: 'POST', headers: { authorization: deviceTokens[index % deviceTokens.length]!, 'iothub-to': `/devices/${id}/messages/events` }, body: config.payload, tls },
        ];
      case 'method':
        return [
          `${config.baseUrl}/twins/${id}/methods?api-version=2021-04-12`,
          {
            method: 'POST',
            headers: { authorization: config.serviceToken!, 'content-type': 'application/json' },
            body: JSON.stringify({ methodName: 'echo', payload: { n: index }, responseTimeoutInSeconds: 10 }),
            tls,
          },
        ];
      case 'c2d':
        return [
          `${config.baseUrl}/devices/${id}/messages/deviceBound?api-version=2021-04-12`,
          {
            method: 'POST',
            headers: { authorization: config.serviceToken!, 'content-type': 'application/json' },
            body: JSON.stringify({ sentAtMs: performance.timeOrigin + performance.now() }),
            tls,
          },
        ];
    }
  };
  const isSuccess = (status: number, text: string) => {
    if (config.kind === 'method') return status === 200 && (JSON.parse(text) as { status: number }).status === 200;
    return status === 200 || status === 204;
  };
  // One call per worker before `go`, so failures show before the measurement.
  const [url, init] = request(0);
  const probe = await fetch(url, init);
  const probeText = await probe.text();
  if (!isSuccess(probe.status, probeText)) throw new Error(`probe ${config.kind}: ${probe.status} ${probeText.slice(0, 300)}`);
  reportReady();

  await nextCommand();
  const deadline = performance.now() + config.durationMs;
  let next = 1;
  let lastAt = performance.now();
  const startedAt = performance.now();
  const intervalMs = config.ratePerSecond ? 1000 / config.ratePerSecond : 0;
  await Promise.all(
    Array.from({ length: config.concurrency }, async () => {
      while (performance.now() < deadline) {
        const index = next++;
        const dueAt = startedAt + (index - 1) * intervalMs;
        if (dueAt >= deadline) break;
        if (dueAt > performance.now()) await Bun.sleep(dueAt - performance.now());
        const [url, init] = request(index);
        const t0 = intervalMs > 0 ? dueAt : performance.now();
        const response = await fetch(url, init);
        const text = await response.text();
        lastAt = performance.now();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (isSuccess(response.status, text)) {
          ok++;
          histogram.recordMs(lastAt - t0);
        }
      }
    }),
  );
  reportResult({ ok, statuses, elapsedMs: lastAt - startedAt, histogram: histogram.toSparse() });
});
