// The Devices page against a real hub: creating a device through the "New device" dialog, and a
// viewer who can see the devices but neither gets the change controls nor may delete through the API.
import { expect, logIn, screenshot, test, uniqueId } from './support/fixtures.ts';

const API_VERSION = 'api-version=2021-04-12';
const CONSOLE_HEADERS = { 'x-tributary-console': '1' };

interface DeviceIdentity {
  deviceId: string;
  status: string;
  authentication: { type: string; symmetricKey?: { primaryKey: string } };
}

test.describe('devices', () => {
  test('a device created with "New device" opens its page and exists in the hub', async ({ adminPage: page, hub }) => {
    const deviceId = uniqueId('new-dev');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Devices' })).toBeVisible();

    await page.getByRole('button', { name: 'New device', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'New device' });
    await expect(dialog).toBeVisible();
    await dialog.getByLabel('Device ID').fill(deviceId);
    await dialog.getByRole('button', { name: 'Create device' }).click();

    await expect(page).toHaveURL((url) => decodeURIComponent(url.pathname) === `/devices/${deviceId}`);
    await expect(page.getByRole('heading', { level: 1, name: deviceId, exact: true })).toBeVisible();
    await expect(dialog).toBeHidden();

    const device = await hub.serviceJson<DeviceIdentity>(`/devices/${deviceId}?${API_VERSION}`);
    expect(device.deviceId).toBe(deviceId);
    expect(device.status).toBe('enabled');
    expect(device.authentication.type).toBe('sas');
    expect(device.authentication.symmetricKey?.primaryKey).toBeTruthy();
  });

  test('the device list shows the hub’s devices with their actions; the overview renders', async ({ adminPage: page, hub }) => {
    const prefix = uniqueId('list');
    const ids = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const [index, deviceId] of ids.entries()) {
      await hub.serviceJson(`/devices/${deviceId}?${API_VERSION}`, {
        method: 'PUT',
        json: { deviceId, status: index === 2 ? 'disabled' : 'enabled', authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } },
      });
    }

    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
    await expect(page.getByText(/^Tributary .* · PGlite$/)).toBeVisible();
    await screenshot(page, 'overview');

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devices', exact: true }).click();
    for (const deviceId of ids) {
      await expect(page.getByRole('link', { name: deviceId, exact: true })).toBeVisible();
      await expect(page.getByRole('button', { name: `Delete ${deviceId}`, exact: true })).toBeVisible();
    }
    await expect(page.getByRole('button', { name: `Enable ${ids[2]}`, exact: true })).toBeVisible();
    await screenshot(page, 'device-list');
  });

  test('a viewer sees the devices but cannot create or delete one', async ({ adminPage, browser, hub }) => {
    const deviceId = uniqueId('keep');
    await hub.serviceJson(`/devices/${deviceId}?${API_VERSION}`, {
      method: 'PUT',
      json: { deviceId, authentication: { type: 'sas', symmetricKey: { primaryKey: '', secondaryKey: '' } } },
    });
    const viewer = { username: uniqueId('viewer'), password: 'viewer-password-1' };
    const created = await adminPage.request.post('/console/api/operators', {
      headers: CONSOLE_HEADERS,
      data: { ...viewer, role: 'viewer' },
    });
    expect(created.status(), await created.text()).toBe(201);

    const context = await browser.newContext({ baseURL: hub.baseURL });
    try {
      const page = await context.newPage();
      await logIn(page, viewer);
      await page.goto('/devices');
      await expect(page.getByRole('heading', { level: 1, name: 'Devices' })).toBeVisible();
      await expect(page.getByRole('region', { name: 'Signed-in operator' })).toContainText('viewer');

      // The list has loaded (the device's row is there) before asserting what is missing.
      await expect(page.getByRole('link', { name: deviceId, exact: true })).toBeVisible();
      await expect(page.getByRole('button', { name: `Delete ${deviceId}`, exact: true })).toHaveCount(0);
      await expect(page.getByRole('button', { name: /^(Disable|Enable) / })).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'New device', exact: true })).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'Bulk import', exact: true })).toHaveCount(0);

      const deleted = await page.request.delete(`/devices/${encodeURIComponent(deviceId)}`, {
        headers: { ...CONSOLE_HEADERS, 'if-match': '*' },
      });
      expect(deleted.status()).toBe(401);
      expect(await deleted.text()).toContain('is a viewer and cannot change anything');

      const device = await hub.serviceJson<DeviceIdentity>(`/devices/${deviceId}?${API_VERSION}`);
      expect(device.deviceId).toBe(deviceId);
    } finally {
      await context.close();
    }
  });
});
