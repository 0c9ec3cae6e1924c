/**
 * Spawns a real hub process (`bun apps/hub/src/main.ts`, as the README starts it)
 * on a fresh data dir and, for PostgreSQL, a fresh database; waits for its hub.json; stops it.
 * All hubs of a test run share one test CA, which this process trusts, so the official SDKs
 * verify the hub's certificate exactly as they would with NODE_EXTRA_CA_CERTS.
 * @module
 */

import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createTemporaryPostgresDatabase, type TemporaryDatabase } from '@tributary/db/testing';
import type { HubInfo } from '../../src/hub-info.ts';
import { createCertificateAuthority } from '../../src/tls/local-ca.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const READY_TIMEOUT_MS = 30_000;

export type Storage = 'pglite' | 'postgres';

/** The storages this run covers: PGlite always, PostgreSQL when DATABASE_URL is set. */
export function storages(): Storage[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

let testCa: Promise<{ certPem: string; keyPem: string }> | undefined;

/** The CA every test hub signs its server certificate with; trusted by this process. */
export function sharedTestCa(): Promise<{ certPem: string; keyPem: string }> {
  testCa ??= createCertificateAuthority('Tributary Test CA').then((ca) => {
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), ca.certPem]);
    return ca;
  });
  return testCa;
}

/** A loopback address of its own (127.x.y.z), so each hub can take port 443 without collisions. */
export function privateLoopbackAddress(): string {
  return `127.${randomInt(20, 250)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;
}

export interface SpawnedHub {
  info: HubInfo;
  dataDir: string;
  /** The hub's PostgreSQL database (postgres storage only). */
  database?: TemporaryDatabase;
  /** The service connection string of a shared access policy, by name. */
  connectionString(policy?: string): string;
  /** `https://host[:port]` of the service API. */
  baseUrl: string;
  /**
   * `fetch` against the hub's HTTPS origin (`path` like `/devices/x`) trusting the test CA: Bun's
   * fetch ignores tls.setDefaultCACertificates, which the SDKs' node:https path honours.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number>;
  /** SIGKILL (a crash): no shutdown runs; the data dir and database are kept. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  storage?: Storage;
  /** Extra or overriding environment for the hub (e.g. HUB_HTTPS_PORT). */
  env?: Record<string, string | undefined>;
  /** Use this data dir instead of a fresh one (restarts). */
  dataDir?: string;
  /** Use this PostgreSQL database instead of a fresh one (restarts on postgres storage). */
  database?: TemporaryDatabase;
  /** Keep the data dir and database after stop (for restart tests). */
  keep?: boolean;
  /** A module the hub process loads before its own code (`bun --preload`), e.g. the bench's GC trigger. */
  preload?: string;
}

/**
 * Starts a hub. By default it listens on 443 of a private loopback address that is also its
 * HostName, so SDK paths that can only reach 443 work.
 */
export async function spawnHub(options: SpawnOptions = {}): Promise<SpawnedHub> {
  const ca = await sharedTestCa();
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'tributary-e2e-')));
  await writeFile(join(dataDir, 'ca.pem'), ca.certPem);
  await writeFile(join(dataDir, 'ca.key'), ca.keyPem, { mode: 0o600 });
  let database: TemporaryDatabase | undefined = options.database;
  if (options.storage === 'postgres' && !database) {
    if (!process.env.DATABASE_URL) throw new Error('postgres storage needs DATABASE_URL');
    database = await createTemporaryPostgresDatabase(process.env.DATABASE_URL, 'e2e');
  }
  const address = privateLoopbackAddress();
  const env: Record<string, string | undefined> = {
    ...process.env,
    DATABASE_URL: database?.url,
    HUB_DATA_DIR: dataDir,
    HUB_HOSTNAME: address,
    HUB_BIND_ADDRESS: address,
    HUB_HTTPS_PORT: '443',
    HUB_HTTP_PORT: '0',
    HUB_MQTTS_PORT: '8883',
    HUB_LOG_LEVEL: 'info',
    ...options.env,
  };
  // A hub that crashed (SIGKILL) leaves its hub.json behind; readiness means a new one.
  await rm(join(dataDir, 'hub.json'), { force: true });
  // HUB_CPU_PROFILE_DIR=<dir> / HUB_HEAP_PROFILE_DIR=<dir> (bench and tests alike): the hub writes a
  // Markdown CPU profile / heap profile there when it exits.
  const profiling = [
    ...(process.env.HUB_CPU_PROFILE_DIR ? ['--cpu-prof-md', `--cpu-prof-dir=${process.env.HUB_CPU_PROFILE_DIR}`] : []),
    ...(process.env.HUB_HEAP_PROFILE_DIR ? ['--heap-prof-md', `--heap-prof-dir=${process.env.HUB_HEAP_PROFILE_DIR}`] : []),
  ];
  const preload = options.preload ? ['--preload', options.preload] : [];
  const child = Bun.spawn(['bun', ...profiling, ...preload, MAIN], { env, stdout: 'pipe', stderr: 'pipe' });
  // A hub must never outlive the test process that started it.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const output = { stdout: '', stderr: '' };
  const collect = async (stream: ReadableStream<Uint8Array>, key: 'stdout' | 'stderr') => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) output[key] += decoder.decode(chunk, { stream: true });
  };
  const collected = Promise.all([collect(child.stdout, 'stdout'), collect(child.stderr, 'stderr')]);

  const cleanup = async () => {
    if (options.keep) return;
    if (!options.database) await database?.drop();
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
  };

  const infoPath = join(dataDir, 'hub.json');
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // Ready means hub.json is written and the banner (printed right after it) has arrived.
  const bannerArrived = () => output.stdout.includes('iothubowner connection string:') && output.stdout.endsWith('\n');
  while (!(await Bun.file(infoPath).exists()) || !bannerArrived()) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill();
      await collected;
      await cleanup();
      throw new Error(`hub did not become ready (exit ${child.exitCode}):\n${output.stderr}\n${output.stdout}`);
    }
    await Bun.sleep(25);
  }
  // A fresh handle: Bun.file caches the size it saw before the file existed.
  const info = (await Bun.file(infoPath).json()) as HubInfo;
  const host = info.ports.https === 443 ? info.hostName : `${info.hostName}:${info.ports.https}`;
  const baseUrl = `https://${host}`;
  if (info.database !== (options.storage ?? 'pglite')) {
    throw new Error(`hub runs on ${info.database}, expected ${options.storage ?? 'pglite'}`);
  }
  return {
    info,
    dataDir,
    database,
    baseUrl,
    connectionString(policy = 'iothubowner') {
      const value = info.connectionStrings[policy];
      if (!value) throw new Error(`no policy ${policy}`);
      return value;
    },
    fetch: (path, init) => fetch(`${baseUrl}${path}`, { ...init, tls: { ca: ca.certPem } }),
    stdout: () => output.stdout,
    stderr: () => output.stderr,
    async kill() {
      child.kill('SIGKILL');
      await child.exited;
      process.off('exit', killChild);
      await collected;
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await child.exited;
      process.off('exit', killChild);
      await collected;
      await cleanup();
      return code;
    },
  };
}

/**
 * Environment for a hub reached as `localhost` on random ports: for clients that put the host in
 * TLS SNI (rhea in the AMQP SDKs), which Bun refuses for an IP literal. Such clients connect with
 * `HostName=localhost:<port>`.
 */
export const LOCALHOST_HUB_ENV = {
  HUB_HOSTNAME: 'localhost',
  HUB_BIND_ADDRESS: '127.0.0.1',
  HUB_HTTPS_PORT: '0',
  HUB_MQTTS_PORT: '0',
  HUB_AMQPS_PORT: '0',
} as const;
