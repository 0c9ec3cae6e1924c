/**
 * What browser specs import instead of `@playwright/test`:
 *
 *   import { expect, test, screenshot, logIn } from './support/fixtures.ts';
 *   test('…', async ({ page, hub }) => { … });          // page is anonymous, baseURL is the hub
 *   test('…', async ({ adminPage, hub }) => { … });     // already logged in as admin, on `/`
 *
 * Every spec runs against the one hub the global setup started (fresh data dir, PGlite), so use
 * unique device ids and operator names (`uniqueId('dev')`) and never assume an empty hub.
 * @module
 */

import { createHmac } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test as base, expect, type Page } from '@playwright/test';
import { ARTIFACTS_DIR, HUB_ENV, type HubUnderTest } from './hub.ts';

export { expect };
export type { HubInfo, HubUnderTest } from './hub.ts';

/** Options of `hub.service`: a fetch init plus the policy whose key signs the SAS token. */
export interface ServiceRequest extends RequestInit {
  /** Shared access policy (default `iothubowner`). */
  policy?: string;
  /** A JSON body, serialised with `Content-Type: application/json`. */
  json?: unknown;
}

export interface Hub extends HubUnderTest {
  /** A service SAS token of `policy` (default iothubowner), valid for `lifetimeSeconds` (default 3600). */
  sasToken(policy?: string, lifetimeSeconds?: number): string;
  /** Calls the service REST API (`path` like `/devices/d1?api-version=2021-04-12`) over plain HTTP with a SAS token. */
  service(path: string, init?: ServiceRequest): Promise<Response>;
  /** Like `service`, but answers the parsed JSON body (undefined for 204) and throws on a non-2xx status. */
  serviceJson<T = unknown>(path: string, init?: ServiceRequest): Promise<T>;
}

/** `encodeURIComponent` plus `! ' ( ) *`, as the IoT SDKs (and packages/core's encodeStrict) encode. */
function encodeStrict(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/** Service policy token as packages/core's `sasRecipes.service` builds it (`sr` = HostName, raw). */
export function serviceSasToken(connectionString: string, lifetimeSeconds = 3600): string {
  const fields = Object.fromEntries(
    connectionString.split(';').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at), part.slice(at + 1)];
    }),
  );
  const { HostName: hostName, SharedAccessKeyName: keyName, SharedAccessKey: key } = fields;
  if (!hostName || !keyName || !key) throw new Error(`not a service connection string: ${connectionString}`);
  const expiresAt = Math.floor(Date.now() / 1000) + lifetimeSeconds;
  const signature = createHmac('sha256', Buffer.from(key, 'base64')).update(`${hostName}\n${expiresAt}`).digest('base64');
  return `SharedAccessSignature sr=${hostName}&sig=${encodeStrict(signature)}&skn=${encodeStrict(keyName)}&se=${expiresAt}`;
}

function hubFromEnvironment(): Hub {
  const text = process.env[HUB_ENV];
  if (!text) throw new Error(`${HUB_ENV} is not set: run the specs through playwright.config.ts (its global setup starts the hub)`);
  const shared = JSON.parse(text) as HubUnderTest;
  const sasToken = (policy = 'iothubowner', lifetimeSeconds = 3600) => {
    const connectionString = shared.info.connectionStrings[policy];
    if (!connectionString) throw new Error(`the hub has no policy ${policy}`);
    return serviceSasToken(connectionString, lifetimeSeconds);
  };
  const service = (path: string, { policy, json, ...init }: ServiceRequest = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', sasToken(policy));
    if (json !== undefined) {
      headers.set('content-type', 'application/json');
      init.body = JSON.stringify(json);
    }
    return fetch(new URL(path, shared.baseURL), { ...init, headers });
  };
  return {
    ...shared,
    sasToken,
    service,
    async serviceJson<T>(path: string, init?: ServiceRequest): Promise<T> {
      const response = await service(path, init);
      const text = await response.text();
      if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path} answered ${response.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

/** `prefix-<random>`: a name no other spec (or earlier run) uses. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Saves a full-page screenshot to `apps/web/e2e/artifacts/<name>.png` (kept by CI) and attaches it
 * to the test's report. Returns the file's path.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS_DIR, 'screenshots', `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await mkdir(join(ARTIFACTS_DIR, 'screenshots'), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  await base.info().attach(name, { path, contentType: 'image/png' });
  return path;
}

/**
 * Logs `page`'s browser context in through `POST /console/api/login` (no UI), so the session
 * cookie is set for every later navigation: `await logIn(page, hub.admin)`.
 */
export async function logIn(page: Page, credentials: { username: string; password: string }): Promise<void> {
  const response = await page.request.post('/console/api/login', {
    data: credentials,
    headers: { 'x-tributary-console': '1' },
  });
  if (!response.ok()) throw new Error(`login as ${credentials.username} answered ${response.status()}: ${await response.text()}`);
}

export const test = base.extend<{ adminPage: Page }, { hub: Hub }>({
  hub: [async ({}, use) => use(hubFromEnvironment()), { scope: 'worker' }],
  baseURL: async ({ hub }, use) => use(hub.baseURL),
  /** A page whose context is logged in as admin, opened at `/`. */
  adminPage: async ({ page, hub }, use) => {
    await logIn(page, hub.admin);
    await page.goto('/');
    await use(page);
  },
});
