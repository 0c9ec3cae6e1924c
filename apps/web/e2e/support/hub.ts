/**
 * Starts the hub under test the way the README does (`bun apps/hub/src/main.ts`) on a fresh data
 * dir, waits until it is ready (hub.json written and the startup banner printed) and stops it with
 * SIGTERM. Written with node: APIs only, so it runs whether Playwright runs on Bun or on Node.
 * The console must have been built first (`bun run build`; `bun run test` does that).
 * @module
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const HUB_MAIN = join(REPO_ROOT, 'apps/hub/src/main.ts');
const CONSOLE_INDEX = join(REPO_ROOT, 'apps/web/build/index.html');
/** Where screenshots, the hub's log and Playwright's reports go (gitignored, kept by CI). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/', import.meta.url));
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

/** The parts of `<dataDir>/hub.json` specs use (apps/hub/src/hub-info.ts has the full type). */
export interface HubInfo {
  hostName: string;
  ports: { https: number; http: number; mqtts: number; mqtt?: number; amqps: number; amqp?: number };
  caCertPath: string;
  /** One service connection string per shared access policy, by policy name. */
  connectionStrings: Record<string, string>;
  eventHubCompatible: { name: string; endpoint: string; connectionString: string };
  console: { url: string; localUrl: string };
  database: 'pglite' | 'postgres';
  version: string;
  pid: number;
}

/** The environment variable that carries the hub under test (JSON) from the global setup to the workers. */
export const HUB_ENV = 'TRIBUTARY_E2E_HUB';

/** What the global setup hands to the specs (as JSON in TRIBUTARY_E2E_HUB). */
export interface HubUnderTest {
  /** `http://127.0.0.1:<HUB_HTTP_PORT>`: the console and the REST API without TLS. */
  baseURL: string;
  /** The first console operator, created at first start with HUB_ADMIN_PASSWORD. */
  admin: { username: string; password: string };
  /** The content of `<dataDir>/hub.json`. */
  info: HubInfo;
  dataDir: string;
}

export interface StartedHub extends HubUnderTest {
  /** SIGTERM, then waits for the exit; resolves to the exit code (0 when it stopped cleanly). */
  stop(): Promise<number | null>;
}

/** Spawns a hub on a fresh temp data dir, loopback only, every port chosen free by the kernel. */
export async function startHub(): Promise<StartedHub> {
  if (!existsSync(CONSOLE_INDEX)) {
    throw new Error(`The console is not built (${CONSOLE_INDEX} is missing): run \`bun run build\` first.`);
  }
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-browser-e2e-'));
  const admin = { username: 'admin', password: `e2e-${randomBytes(12).toString('base64url')}` };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HUB_DATA_DIR: dataDir,
    HUB_HOSTNAME: 'localhost',
    HUB_BIND_ADDRESS: '127.0.0.1',
    // Port 0: the kernel picks a free port; the real ones are read back from hub.json.
    HUB_HTTPS_PORT: '0',
    HUB_HTTP_PORT: '0',
    HUB_MQTTS_PORT: '0',
    HUB_AMQPS_PORT: '0',
    HUB_ADMIN_PASSWORD: admin.password,
    HUB_LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'info',
  };
  // Embedded PGlite in the fresh data dir: never the test run's shared PostgreSQL database.
  delete env.DATABASE_URL;
  for (const name of ['HUB_MQTT_PORT', 'HUB_AMQP_PORT']) delete env[name];

  const child = spawn('bun', [HUB_MAIN], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    // 'close': the process has exited and its stdout and stderr are drained.
    else child.once('close', (code) => resolve(code));
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));

  const log = createWriteStream(join(ARTIFACTS_DIR, 'hub.log'));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
    log.write(text);
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    log.write(text);
  });

  const infoPath = join(dataDir, 'hub.json');
  // Ready means hub.json is written and the banner (printed right after it) has fully arrived.
  const bannerArrived = () => stdout.includes('iothubowner connection string:') && stdout.endsWith('\n');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!existsSync(infoPath) || !bannerArrived()) {
    if (spawnError || child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      if (!spawnError) await exited;
      process.off('exit', killOnExit);
      log.end();
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(
        `The hub did not become ready (${spawnError?.message ?? `exit ${child.exitCode}`}):\n${stderr}\n${stdout}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const info = JSON.parse(await readFile(infoPath, 'utf8')) as HubInfo;

  return {
    baseURL: `http://127.0.0.1:${info.ports.http}`,
    admin,
    info,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      process.off('exit', killOnExit);
      await new Promise((resolve) => log.end(resolve));
      await rm(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
