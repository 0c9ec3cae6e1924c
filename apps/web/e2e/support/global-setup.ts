/**
 * Playwright global setup: starts one hub for the whole run (specs share it, so give devices and
 * operators unique names) and hands it to the workers in TRIBUTARY_E2E_HUB. The returned function
 * is the global teardown: it stops the hub with SIGTERM and fails the run unless it exits with 0.
 * @module
 */

import { HUB_ENV, startHub } from './hub.ts';

export default async function globalSetup(): Promise<() => Promise<void>> {
  const hub = await startHub();
  const { stop, ...shared } = hub;
  process.env[HUB_ENV] = JSON.stringify(shared);
  return async () => {
    const code = await stop();
    if (code !== 0) throw new Error(`The hub exited with ${code} after SIGTERM, expected 0 (see e2e/artifacts/hub.log)`);
  };
}
