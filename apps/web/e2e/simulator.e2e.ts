/// <reference lib="dom" />
// The core flow of the console against a real hub: a device simulated in the browser (MQTT over
// WebSocket) sends telemetry that the device page charts live, answers a direct method, receives
// a desired-property patch and a cloud-to-device message, and reports properties back.
//
// The simulated device lives in the simulator page's module store: that page stays open (and
// connected) while a second page of the same, logged-in browser context drives the device page.
import type { Page } from '@playwright/test';
import { expect, screenshot, test, uniqueId } from './support/fixtures.ts';

/** `Live · N messages received` → N. */
async function receivedCount(page: Page): Promise<number> {
  const text = await page.getByRole('status').filter({ hasText: /messages received$/ }).textContent();
  const match = /(\d+) messages received/.exec(text ?? '');
  if (!match) throw new Error(`no message count in ${JSON.stringify(text)}`);
  return Number(match[1]);
}

test('a simulated device streams telemetry to the device page and answers methods, twin and C2D', async ({ adminPage: simulatorPage, context, hub }) => {
  test.setTimeout(60_000);
  const deviceId = uniqueId('sim');
  await hub.serviceJson(`/devices/${deviceId}?api-version=2021-04-12`, {
    method: 'PUT',
    json: { deviceId, authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } },
  });
  const card = simulatorPage.getByRole('region', { name: `Simulated device ${deviceId}`, exact: true });

  await test.step('pick the device in the simulator, connect and start telemetry', async () => {
    await simulatorPage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Simulator', exact: true }).click();
    await expect(simulatorPage.getByRole('heading', { level: 1, name: 'Device simulator' })).toBeVisible();
    await simulatorPage.getByLabel('Search devices').fill(deviceId);
    await simulatorPage
      .getByRole('list', { name: 'Matching devices' })
      .getByRole('button', { name: `Simulate ${deviceId}`, exact: true })
      .click();
    await expect(card).toBeVisible();

    // A per-method response next to the default one.
    await card.getByRole('button', { name: 'Add method response' }).click();
    await card.getByLabel('Method 1 name', { exact: true }).fill('reboot');
    await card.getByLabel('Method 1 status', { exact: true }).fill('202');
    await card.getByLabel('Method 1 response payload (JSON)', { exact: true }).fill('{"rebooting": true}');

    await card.getByRole('button', { name: 'Connect', exact: true }).click();
    await expect(card.getByRole('status', { name: 'Connection status' })).toHaveText('Connected');
    await card.getByLabel('Interval (ms)').fill('200');
    await card.getByRole('button', { name: 'Start telemetry' }).click();
    await expect(card.getByRole('button', { name: 'Stop telemetry' })).toBeVisible();
    await expect(card.getByText(/^[1-9]\d* sent$/)).toBeVisible();
  });

  const devicePage = await context.newPage();
  await test.step('the device page charts the telemetry live', async () => {
    await devicePage.goto(`/devices/${encodeURIComponent(deviceId)}`);
    await expect(devicePage.getByRole('heading', { level: 1, name: deviceId, exact: true })).toBeVisible();

    const chart = devicePage.getByRole('region', { name: 'Telemetry chart' });
    await expect(chart).toBeVisible();
    await expect(chart.locator('canvas')).toBeVisible();
    // uPlot's legend: one row per numeric field of the template.
    await expect(chart.getByText('temperature', { exact: true })).toBeVisible();
    await expect(chart.getByText('humidity', { exact: true })).toBeVisible();

    const log = devicePage.getByRole('list', { name: 'Message log' });
    await expect(log.getByRole('listitem').first()).toContainText('"temperature"');
    await expect(devicePage.getByRole('status').filter({ hasText: /^Live · \d+ messages received$/ })).toBeVisible();
    const first = await receivedCount(devicePage);
    expect(first).toBeGreaterThan(0);
    await expect.poll(() => receivedCount(devicePage)).toBeGreaterThan(first + 5);
    expect(await log.getByRole('listitem').count()).toBeGreaterThan(3);
    await screenshot(devicePage, 'device-page-live-chart');
  });

  await test.step('a direct method gets the simulator’s configured response', async () => {
    await devicePage.getByLabel('Method name').fill('reboot');
    await devicePage.getByLabel('Method payload (JSON)').fill('{"delaySeconds": 5}');
    await devicePage.getByRole('button', { name: 'Invoke method' }).click();
    const result = devicePage.getByRole('region', { name: 'Method result' });
    await expect(result).toContainText(/Status 202 · round trip \d+ ms/);
    await expect(result.getByLabel('Method response payload')).toHaveText(/"rebooting": true/);
    await expect(card.getByRole('list', { name: 'Received method calls' }).getByRole('listitem').first()).toContainText(
      /reboot → 202\s*\{"delaySeconds":5\}/,
    );

    // Any other method gets the default response.
    await devicePage.getByLabel('Method name').fill('ping');
    await devicePage.getByRole('button', { name: 'Invoke method' }).click();
    await expect(result).toContainText(/Status 200 · round trip \d+ ms/);
    await expect(result.getByLabel('Method response payload')).toHaveText(/"result": "ok"/);
  });

  await test.step('a desired-property change reaches the simulated device', async () => {
    await devicePage.getByLabel('Desired properties (JSON)').fill('{\n  "targetTemperature": 21.5\n}');
    await devicePage.getByRole('button', { name: 'Save twin', exact: true }).click();
    await expect(devicePage.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();
    await expect(card.getByRole('list', { name: 'Desired property changes' }).getByRole('listitem').first()).toContainText(
      /\$version \d+\s*\{"targetTemperature":21\.5/,
    );
  });

  await test.step('a cloud-to-device message reaches the simulated device', async () => {
    const body = `hello ${deviceId}`;
    await devicePage.getByLabel('Message body').fill(body);
    await devicePage.getByRole('button', { name: 'Send message', exact: true }).click();
    await expect(devicePage.getByRole('status').filter({ hasText: /^Sent message / })).toBeVisible();
    await expect(card.getByRole('list', { name: 'Received cloud-to-device messages' }).getByRole('listitem').first()).toContainText(body);
  });

  await test.step('reported properties from the simulated device show in the twin', async () => {
    await card.getByLabel('Reported properties patch (JSON)').fill('{"firmwareVersion": "2.1.0"}');
    await card.getByRole('button', { name: 'Update reported properties' }).click();
    await expect(card.getByText(/^Reported properties updated \(version \d+\)\.$/)).toBeVisible();
    await devicePage.getByRole('button', { name: 'Reload twin', exact: true }).click();
    await expect(devicePage.getByRole('region', { name: 'Reported properties' })).toContainText('"firmwareVersion": "2.1.0"');
  });

  await test.step('the simulator page shows everything the device received', async () => {
    await simulatorPage.bringToFront();
    await expect(card.getByRole('status', { name: 'Connection status' })).toHaveText('Connected');
    // Full-page shots draw the sticky navigation where the page was scrolled to: start from the top.
    await simulatorPage.evaluate(() => window.scrollTo(0, 0));
    await screenshot(simulatorPage, 'simulator');
    await card.getByRole('button', { name: 'Stop telemetry' }).click();
    await card.getByRole('button', { name: 'Disconnect', exact: true }).click();
    await expect(card.getByRole('status', { name: 'Connection status' })).toHaveText('Disconnected');
  });
});
