/// <reference lib="dom" />
// Performance measurements of the console, recorded (as test annotations and in
// e2e/artifacts/measurements.json), never asserted against wall-clock time: the machines these
// run on vary too much. What is asserted is behaviour: the page works while it is measured.
//
// (a) The first load of the console from the hub: navigation timing and the time until the
//     Overview heading is on screen.
// (b) The device page's live chart while a device (a plain MQTT-over-WebSocket client in the test
//     process, authenticated like an Azure device SDK) sends 50 messages a second: frames rendered,
//     long tasks and the JS heap.
import { createHmac } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { connect, type MqttClient } from 'mqtt';
import { ARTIFACTS_DIR } from './support/hub.ts';
import { expect, logIn, test, uniqueId } from './support/fixtures.ts';

const MEASUREMENTS_PATH = join(ARTIFACTS_DIR, 'measurements.json');
const API_VERSION = '2021-04-12';
const MESSAGES_PER_S = 50;
const SEND_DURATION_MS = 20_000;
const EARLY_SAMPLE_MS = 5_000;

/** Adds `values` under `name` to the test's annotations and to measurements.json (merged with the other measurements). */
async function record(name: string, values: Record<string, unknown>): Promise<void> {
  for (const [key, value] of Object.entries(values)) {
    test.info().annotations.push({ type: `${name}.${key}`, description: String(value) });
  }
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(await readFile(MEASUREMENTS_PATH, 'utf8')) as Record<string, unknown>;
  } catch {
    // First measurement of the run, or an unreadable file: start afresh.
  }
  all[name] = { ...values, recordedAt: new Date().toISOString() };
  await writeFile(MEASUREMENTS_PATH, `${JSON.stringify(all, null, 2)}\n`);
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** `encodeURIComponent` plus `! ' ( ) *`, as the Azure SDKs encode. */
const encodeStrict = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A device SAS token as the Azure device SDKs (and packages/core's `sasRecipes.device`) build it. */
function deviceSasToken(hostName: string, deviceId: string, key: string, lifetimeS = 3600): string {
  const resource = encodeStrict(`${hostName}/devices/${deviceId}`);
  const expiry = Math.floor(Date.now() / 1000) + lifetimeS;
  const signature = createHmac('sha256', Buffer.from(key, 'base64')).update(`${resource}\n${expiry}`).digest('base64');
  return `SharedAccessSignature sr=${resource}&sig=${encodeStrict(signature)}&se=${expiry}`;
}

/** `Live · N messages received` → N. */
async function receivedCount(page: Page): Promise<number> {
  const text = await page.getByRole('status').filter({ hasText: /messages received$/ }).textContent();
  const match = /(\d+) messages received/.exec(text ?? '');
  if (!match) throw new Error(`no message count in ${JSON.stringify(text)}`);
  return Number(match[1]);
}

interface PagePerf {
  frames: number;
  now: number;
  longTasks: number;
  longTaskMs: number;
  longestTaskMs: number;
  heapBytes: number | null;
}

declare global {
  interface Window {
    __overviewVisibleAt?: number;
    __perf?: { frames: number; longTasks: number[] };
  }
}

test.describe('performance', () => {
  test('first load of the console from the hub', async ({ page, hub }) => {
    await logIn(page, hub.admin);
    // Notes the moment the Overview heading is first in the document, from before the app runs.
    await page.addInitScript(() => {
      const found = () => Array.from(document.querySelectorAll('h1')).some((h1) => h1.textContent?.trim() === 'Overview');
      const observer = new MutationObserver(() => {
        if (window.__overviewVisibleAt === undefined && found()) {
          window.__overviewVisibleAt = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(document, { childList: true, subtree: true, characterData: true });
    });

    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    await page.waitForLoadState('load');
    const timing = await page.evaluate(() => {
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const resources = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const paints = Object.fromEntries(performance.getEntriesByType('paint').map((entry) => [entry.name, entry.startTime]));
      return {
        responseEndMs: navigation.responseEnd,
        domContentLoadedMs: navigation.domContentLoadedEventEnd,
        loadEventEndMs: navigation.loadEventEnd,
        firstContentfulPaintMs: paints['first-contentful-paint'] ?? null,
        overviewHeadingMs: window.__overviewVisibleAt ?? null,
        resources: resources.length,
        transferredBytes: navigation.transferSize + resources.reduce((sum, entry) => sum + entry.transferSize, 0),
      };
    });
    expect(timing.overviewHeadingMs).not.toBeNull();
    await record('firstLoad', {
      ...Object.fromEntries(
        Object.entries(timing).map(([key, value]) => [key, typeof value === 'number' && key.endsWith('Ms') ? round(value) : value]),
      ),
    });
  });

  test('the live chart under 50 messages per second', async ({ adminPage: page, hub }) => {
    test.setTimeout(45_000);
    const deviceId = uniqueId('perf');
    const device = await hub.serviceJson<{ authentication: { symmetricKey: { primaryKey: string } } }>(
      `/devices/${deviceId}?api-version=${API_VERSION}`,
      { method: 'PUT', json: { deviceId, authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } } },
    );

    await page.goto(`/devices/${encodeURIComponent(deviceId)}`);
    const chart = page.getByRole('region', { name: 'Telemetry chart' });
    await expect(chart).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: /^Live · 0 messages received$/ })).toBeVisible();

    const { hostName } = hub.info;
    const client: MqttClient = connect(`ws://127.0.0.1:${hub.info.ports.http}/$iothub/websocket`, {
      protocolVersion: 4,
      clientId: deviceId,
      username: `${hostName}/${deviceId}/?api-version=${API_VERSION}`,
      password: deviceSasToken(hostName, deviceId, device.authentication.symmetricKey.primaryKey),
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });

      // Frames and long tasks from here on.
      await page.evaluate(() => {
        const perf = { frames: 0, longTasks: [] as number[] };
        window.__perf = perf;
        const frame = () => {
          perf.frames++;
          requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) perf.longTasks.push(entry.duration);
        }).observe({ type: 'longtask' });
      });
      const sample = () =>
        page.evaluate((): PagePerf => {
          const perf = window.__perf!;
          const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
          return {
            frames: perf.frames,
            now: performance.now(),
            longTasks: perf.longTasks.length,
            longTaskMs: perf.longTasks.reduce((sum, duration) => sum + duration, 0),
            longestTaskMs: Math.max(0, ...perf.longTasks),
            heapBytes: memory?.usedJSHeapSize ?? null,
          };
        });
      const start = await sample();

      // 50 messages/s, paced by elapsed time (not by timer accuracy), QoS 1 as the device SDKs send.
      const topic = `devices/${deviceId}/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8`;
      let sent = 0;
      let failed = 0;
      const startedAt = Date.now();
      const sendDue = () => {
        const due = Math.min(MESSAGES_PER_S * (SEND_DURATION_MS / 1000), Math.floor(((Date.now() - startedAt) / 1000) * MESSAGES_PER_S));
        while (sent < due) {
          const body = JSON.stringify({ temperature: 20 + Math.sin(sent / 25) * 5, humidity: 45 + Math.cos(sent / 40) * 10, seq: sent });
          client.publish(topic, body, { qos: 1 }, (error) => {
            if (error) failed++;
          });
          sent++;
        }
      };
      const pacer = setInterval(sendDue, 10);

      const counts: number[] = [];
      let early: PagePerf | undefined;
      try {
        // Every 2.5 s: the page's message counter (and the early sample at 5 s).
        while (Date.now() - startedAt < SEND_DURATION_MS) {
          await page.waitForTimeout(2_500);
          counts.push(await receivedCount(page));
          if (!early && Date.now() - startedAt >= EARLY_SAMPLE_MS) early = await sample();
        }
      } finally {
        clearInterval(pacer);
      }
      sendDue();
      const end = await sample();

      // Behaviour: the counter kept increasing while the device sent, and the chart is there with its series.
      for (let index = 1; index < counts.length; index++) expect(counts[index]).toBeGreaterThan(counts[index - 1]!);
      await expect(chart).toBeVisible();
      await expect(chart.getByText('temperature', { exact: true })).toBeVisible();
      await expect(chart.locator('canvas')).toBeVisible();
      // Every message sent arrives on the page.
      await expect.poll(() => receivedCount(page), { timeout: 10_000 }).toBe(sent);
      expect(failed).toBe(0);

      // After the window (it would count as a long task inside it): what stays once garbage is collected.
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.detach();
      const heapBytesAfterGc = await page.evaluate(
        () => (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null,
      );

      const windowS = (end.now - start.now) / 1000;
      await record('liveChart50PerSecond', {
        messagesSent: sent,
        messagesReceivedOnPage: await receivedCount(page),
        sendDurationS: round((Date.now() - startedAt) / 1000),
        counterSamples: counts.join(' '),
        windowS: round(windowS),
        framesRendered: end.frames - start.frames,
        fps: round((end.frames - start.frames) / windowS),
        longTasks: end.longTasks - start.longTasks,
        longTaskTotalMs: round(end.longTaskMs - start.longTaskMs),
        longestTaskMs: round(end.longestTaskMs),
        heapBytesAtStart: start.heapBytes,
        heapBytesAt5s: early?.heapBytes ?? null,
        heapBytesAtEnd: end.heapBytes,
        heapMiBAt5s: early?.heapBytes ? round(early.heapBytes / 2 ** 20, 2) : null,
        heapMiBAtEnd: end.heapBytes ? round(end.heapBytes / 2 ** 20, 2) : null,
        heapBytesAtEndAfterGc: heapBytesAfterGc,
        heapMiBAtEndAfterGc: heapBytesAfterGc ? round(heapBytesAfterGc / 2 ** 20, 2) : null,
      });
    } finally {
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    }
  });
});
