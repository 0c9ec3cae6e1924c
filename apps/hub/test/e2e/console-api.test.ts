/**
 * The console's API against a spawned hub on each storage: operator login with argon2id and
 * Lucia-style session cookies, the service REST API authorised by that cookie (with its CSRF
 * rules and the viewer role), operator management and session revocation, login rate limiting,
 * the device search, the overview with live counts and throughput, the CA download and the live
 * event WebSocket opened with the cookie.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import { sasRecipes } from '@tributary/core';
import { createDeviceOverRest, serviceToken } from '../support/service-calls.ts';
import { forEachStorage, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

const ADMIN_PASSWORD = 'console-admin-pass';
const CONSOLE = { 'x-tributary-console': '1' };

forEachStorage('console API', (storage) => {
  let hub: SpawnedHub;
  let counter = 0;
  beforeAll(async () => {
    hub = await spawnHub({ storage, env: { HUB_ADMIN_PASSWORD: ADMIN_PASSWORD } });
  }, 60_000);
  afterAll(async () => {
    expect(await hub?.stop()).toBe(0);
  });

  const login = (username: string, password: string) =>
    hub.fetch('/console/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });

  /** Logs in and returns the `Cookie` header value to send. */
  async function cookieFor(username: string, password: string): Promise<string> {
    const response = await login(username, password);
    expect(response.status).toBe(200);
    return response.headers.get('set-cookie')!.split(';')[0]!;
  }

  const as = (cookie: string, init: RequestInit = {}) => ({ ...init, headers: { cookie, ...init.headers } });
  const errorCodeOf = (response: Response) => response.headers.get('iothub-errorcode');

  async function newViewer(): Promise<{ username: string; password: string }> {
    const admin = await cookieFor('admin', ADMIN_PASSWORD);
    const viewer = { username: `viewer-${storage}-${++counter}`, password: 'viewer-pass-1' };
    const created = await hub.fetch(
      '/console/api/operators',
      as(admin, { method: 'POST', headers: { ...CONSOLE, 'content-type': 'application/json' }, body: JSON.stringify({ ...viewer, role: 'viewer' }) }),
    );
    expect(created.status).toBe(201);
    return viewer;
  }

  test('the admin logs in with its password and gets an HttpOnly SameSite=Strict session cookie; a wrong password is refused', async () => {
    const refused = await login('admin', 'not the password');
    expect(refused.status).toBe(401);
    expect(errorCodeOf(refused)).toBe('IotHubUnauthorizedAccess');
    expect(((await refused.json()) as { Message: string }).Message).toContain('Wrong username or password');
    expect(refused.headers.get('set-cookie')).toBeNull();

    const response = await login('admin', ADMIN_PASSWORD);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ username: 'admin', role: 'admin' });
    const cookie = response.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^tributary_session=[a-z2-7]{32}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Secure');
    const session = await hub.fetch('/console/api/session', as(cookie.split(';')[0]!));
    expect(await session.json()).toMatchObject({ username: 'admin', role: 'admin' });
  });

  test('the session cookie authorises the service REST API; changes need the console header, and a foreign Origin is refused', async () => {
    const cookie = await cookieFor('admin', ADMIN_PASSWORD);
    const deviceId = `console-made-${storage}`;
    const put = (headers: Record<string, string>) =>
      hub.fetch(`/devices/${deviceId}`, as(cookie, { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ deviceId }) }));

    const forged = await put({});
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { Message: string }).Message).toContain('x-tributary-console');
    const crossSite = await put({ ...CONSOLE, origin: 'https://evil.example' });
    expect(crossSite.status).toBe(401);
    expect((await hub.fetch(`/devices/${deviceId}`, as(cookie))).status).toBe(404);

    expect((await put(CONSOLE)).status).toBe(200);
    const device = (await (await hub.fetch(`/devices/${deviceId}`, as(cookie))).json()) as { deviceId: string };
    expect(device.deviceId).toBe(deviceId);
  });

  test('a viewer reads everything and changes nothing', async () => {
    const viewer = await newViewer();
    const cookie = await cookieFor(viewer.username, viewer.password);
    const deviceId = `viewed-${storage}`;
    await createDeviceOverRest(hub, deviceId);
    expect((await hub.fetch(`/devices/${deviceId}`, as(cookie))).status).toBe(200);
    expect((await hub.fetch(`/twins/${deviceId}`, as(cookie))).status).toBe(200);

    const deleted = await hub.fetch(`/devices/${deviceId}`, as(cookie, { method: 'DELETE', headers: { ...CONSOLE, 'if-match': '*' } }));
    expect(deleted.status).toBe(401);
    expect(((await deleted.json()) as { Message: string }).Message).toContain('is a viewer and cannot change anything');
    expect((await hub.fetch(`/devices/${deviceId}`, { headers: { authorization: serviceToken(hub) } })).status).toBe(200);

    const added = await hub.fetch(
      '/console/api/operators',
      as(cookie, { method: 'POST', headers: { ...CONSOLE, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'sneaky', password: 'sneaky-pass', role: 'admin' }) }),
    );
    expect(added.status).toBe(401);
    const overview = (await (await hub.fetch('/console/api/overview', as(cookie))).json()) as { connectionStrings: unknown };
    expect(overview.connectionStrings).toBeNull();
  });

  test('logging out ends the session; changing a password ends the other sessions of that operator', async () => {
    const viewer = await newViewer();
    const first = await cookieFor(viewer.username, viewer.password);
    const second = await cookieFor(viewer.username, viewer.password);
    const changed = await hub.fetch(
      `/console/api/operators/${viewer.username}/password`,
      as(first, { method: 'PUT', headers: { ...CONSOLE, 'content-type': 'application/json' }, body: JSON.stringify({ password: 'a-new-password' }) }),
    );
    expect(changed.status).toBe(204);
    expect((await hub.fetch('/console/api/session', as(first))).status).toBe(200);
    expect((await hub.fetch('/console/api/session', as(second))).status).toBe(401);
    expect((await login(viewer.username, viewer.password)).status).toBe(401);

    const loggedOut = await hub.fetch('/console/api/logout', as(first, { method: 'POST', headers: CONSOLE }));
    expect(loggedOut.status).toBe(204);
    expect(loggedOut.headers.get('set-cookie')).toContain('Max-Age=0');
    expect((await hub.fetch('/console/api/session', as(first))).status).toBe(401);
  });

  test('removing an operator revokes its sessions; nobody can remove themselves', async () => {
    const admin = await cookieFor('admin', ADMIN_PASSWORD);
    const viewer = await newViewer();
    const viewerCookie = await cookieFor(viewer.username, viewer.password);
    const self = await hub.fetch('/console/api/operators/admin', as(admin, { method: 'DELETE', headers: CONSOLE }));
    expect(self.status).toBe(400);
    const removed = await hub.fetch(`/console/api/operators/${viewer.username}`, as(admin, { method: 'DELETE', headers: CONSOLE }));
    expect(removed.status).toBe(204);
    expect((await hub.fetch('/console/api/session', as(viewerCookie))).status).toBe(401);
    const list = (await (await hub.fetch('/console/api/operators', as(admin))).json()) as { value: { username: string }[] };
    expect(list.value.map((operator) => operator.username)).not.toContain(viewer.username);
  });

  test('five wrong passwords in a row lock the username out of login for a while, even with the right password', async () => {
    const viewer = await newViewer();
    for (let i = 0; i < 5; i++) expect((await login(viewer.username, `wrong-${i}`)).status).toBe(401);
    const throttled = await login(viewer.username, viewer.password);
    expect(throttled.status).toBe(429);
    expect(errorCodeOf(throttled)).toBe('ThrottlingException');
    expect(((await throttled.json()) as { Message: string }).Message).toMatch(/try again in \d+ seconds/);
  });

  test('the device search filters by id, status and connection state, sorts and pages', async () => {
    const cookie = await cookieFor('admin', ADMIN_PASSWORD);
    const prefix = `fleet-${storage}`;
    for (const n of [3, 1, 2]) await createDeviceOverRest(hub, `${prefix}-${n}`);
    await hub.fetch(
      `/devices/${prefix}-2`,
      as(cookie, { method: 'PUT', headers: { ...CONSOLE, 'content-type': 'application/json', 'if-match': '*' }, body: JSON.stringify({ deviceId: `${prefix}-2`, status: 'disabled' }) }),
    );
    const search = async (query: string) =>
      (await (await hub.fetch(`/console/api/devices?${query}`, as(cookie))).json()) as { total: number; value: { deviceId: string }[] };
    const ids = (page: { value: { deviceId: string }[] }) => page.value.map((device) => device.deviceId.slice(prefix.length + 1));

    expect(ids(await search(`search=${prefix.toUpperCase()}`))).toEqual(['1', '2', '3']);
    expect(ids(await search(`search=${prefix}&order=desc&limit=2`))).toEqual(['3', '2']);
    expect((await search(`search=${prefix}&limit=1&offset=1`)).total).toBe(3);
    expect(ids(await search(`search=${prefix}&status=disabled`))).toEqual(['2']);
    expect(ids(await search(`search=${prefix}&connectionState=Connected`))).toEqual([]);
    const bad = await hub.fetch('/console/api/devices?sort=color', as(cookie));
    expect(bad.status).toBe(400);
    expect(errorCodeOf(bad)).toBe('ArgumentInvalid');
  });

  test('the overview counts telemetry and the live feed streams it to a WebSocket opened with the cookie', async () => {
    const cookie = await cookieFor('admin', ADMIN_PASSWORD);
    const deviceId = `overview-${storage}`;
    const key = await createDeviceOverRest(hub, deviceId);
    const before = (await (await hub.fetch('/console/api/overview', as(cookie))).json()) as {
      connectionStrings: { service: string; eventHubCompatible: string };
      counts: { devices: number; messagesToday: number };
    };
    expect(before.connectionStrings.service).toBe(hub.connectionString());
    expect(before.connectionStrings.eventHubCompatible).toContain('EntityPath=');

    const wsUrl = `${hub.baseUrl.replace('https:', 'wss:')}/events/live?deviceId=${deviceId}`;
    const ca = (await sharedTestCa()).certPem;
    const refused = new WebSocket(wsUrl, { headers: { cookie, origin: 'https://evil.example' }, tls: { ca } } as never);
    const refusal = await new Promise<string>((resolve) => {
      refused.onopen = () => resolve('open');
      refused.onerror = () => resolve('error');
    });
    expect(refusal).toBe('error');
    const feed = new WebSocket(wsUrl, { headers: { cookie }, tls: { ca } } as never);
    await new Promise((resolve, reject) => {
      feed.onopen = resolve;
      feed.onerror = reject;
    });
    const received = new Promise<{ bodyText: string }>((resolve) => {
      feed.onmessage = (message) => resolve(JSON.parse(String(message.data)));
    });

    const token = sasRecipes.device(hub.info.hostName, deviceId, key, Math.floor(Date.now() / 1000) + 600);
    const sent = await hub.fetch(`/devices/${deviceId}/messages/events?api-version=2021-04-12`, {
      method: 'POST',
      headers: { authorization: token },
      body: '{"temperature":21}',
    });
    expect(sent.status).toBe(204);
    expect((await received).bodyText).toBe('{"temperature":21}');
    feed.close();

    const after = (await (await hub.fetch('/console/api/overview', as(cookie))).json()) as typeof before;
    expect(after.counts.devices).toBe(before.counts.devices);
    expect(after.counts.messagesToday).toBe(before.counts.messagesToday + 1);
    await Bun.sleep(1100);
    const throughput = (await (await hub.fetch('/console/api/throughput?seconds=10', as(cookie))).json()) as { points: { t: number; count: number }[] };
    expect(throughput.points).toHaveLength(10);
    expect(throughput.points.reduce((sum, point) => sum + point.count, 0)).toBeGreaterThanOrEqual(1);
  });

  test('the CA certificate downloads as a file, even when a browser navigates to it', async () => {
    const cookie = await cookieFor('admin', ADMIN_PASSWORD);
    const response = await hub.fetch('/console/api/ca.pem', as(cookie, { headers: { accept: 'text/html' } }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toContain('attachment');
    expect(await response.text()).toBe((await sharedTestCa()).certPem);
    expect((await hub.fetch('/console/api/ca.pem')).status).toBe(401);
  });
});
