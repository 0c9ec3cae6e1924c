// Browser end-to-end tests of the console: `bunx --bun playwright test` in apps/web after
// `bun run build` (`bun run test` at the root does both). The global setup starts one real hub on
// a fresh data dir; specs import their `test` from e2e/support/fixtures.ts. Spec files are
// `e2e/*.e2e.ts` so that `bun test` does not collect them.
import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

// Debian's Chromium (`apt-get install chromium`): Playwright cannot download its own browsers on
// this project's machines. Without it (and without CHROMIUM_PATH) Playwright's own browser is used.
const DEFAULT_CHROMIUM = '/usr/bin/chromium';
const chromiumPath = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
if (process.env.CHROMIUM_PATH && !existsSync(chromiumPath)) {
  throw new Error(`CHROMIUM_PATH=${chromiumPath} does not exist`);
}
const executablePath = existsSync(chromiumPath) ? chromiumPath : undefined;

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.e2e.ts',
  outputDir: './e2e/artifacts/test-results',
  globalSetup: './e2e/support/global-setup.ts',
  // One hub for the run, shared by the specs: one worker keeps them from racing on it.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  // A safety net only: the whole run takes seconds.
  globalTimeout: 4 * 60_000,
  reporter: [
    ['list'],
    // scripts/test.ts reads the counts from here.
    ['json', { outputFile: process.env.PLAYWRIGHT_JSON_OUTPUT_FILE || './e2e/artifacts/report.json' }],
  ],
  use: {
    // The real baseURL (the hub's HTTP port) comes from the `baseURL` fixture in e2e/support/fixtures.ts.
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          ...(executablePath ? { executablePath } : {}),
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
