/**
 * A freshly started hub for one scenario: reached as `localhost` on random ports (the raw TLS
 * clients send SNI `localhost`), with helpers to register bench devices in bulk, describe it to
 * workers, and count what its event stream holds.
 * @module
 */

import { randomBytes } from 'node:crypto';
import { LOCALHOST_HUB_ENV, sharedTestCa, spawnHub, type SpawnedHub, type Storage } from '../../apps/hub/test/support/hub-process.ts';
import { serviceToken } from '../../apps/hub/test/support/service-calls.ts';
import type { MqttTarget } from '../load/device-target.ts';
import { rssBytes } from './process-stats.ts';

const HUB_SIGNALS = new URL('./hub-signals.ts', import.meta.url).pathname;
/** How long a full collection of the hub's heap is given (it takes well under this). */
const GC_GRACE_MS = 1000;

/** Every bench device is registered with this primary key, so workers can sign their own tokens. */
export const DEVICE_KEY = randomBytes(32).toString('base64');

export interface BenchHub {
  hub: SpawnedHub;
  pid: number;
  /** For MQTT workers: the hub's MQTTS endpoint and device credentials. */
  mqttTarget: MqttTarget;
  /** For HTTPS workers: the hub's origin and the CA to trust. */
  https: { baseUrl: string; ca: string; hostName: string };
  serviceToken(): string;
  /** Registers devices with `POST /devices` (100 per call, importMode create). */
  createDevices(ids: string[]): Promise<void>;
  /** Events the stream holds across all partitions (from `GET /events/partitions`). */
  countEvents(): Promise<number>;
  /** The hub's RSS after a full garbage collection (see hub-signals.ts). */
  settledRssBytes(): Promise<number>;
  /**
   * With HUB_HEAP_PROFILE_DIR set, ends the hub at once, connections still open, so its heap
   * profile shows them; otherwise does nothing. `stop` still waits for the exit.
   */
  profileHeapNow(): void;
  stop(): Promise<void>;
}

export async function expectOk(response: Response, what: string): Promise<void> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

export async function startBenchHub(storage: Storage): Promise<BenchHub> {
  const ca = await sharedTestCa();
  const hub = await spawnHub({ storage, env: { ...LOCALHOST_HUB_ENV, HUB_LOG_LEVEL: 'warn' }, preload: HUB_SIGNALS });
  const token = () => serviceToken(hub);
  return {
    hub,
    pid: hub.info.pid,
    mqttTarget: {
      endpoint: { host: '127.0.0.1', port: hub.info.ports.mqtts, tls: { ca: ca.certPem, serverName: 'localhost' } },
      hub: { hostName: hub.info.hostName, deviceKey: DEVICE_KEY },
    },
    https: { baseUrl: hub.baseUrl, ca: ca.certPem, hostName: hub.info.hostName },
    serviceToken: token,
    async createDevices(ids) {
      const authorization = token();
      const authentication = { type: 'sas', symmetricKey: { primaryKey: DEVICE_KEY, secondaryKey: DEVICE_KEY } };
      for (let i = 0; i < ids.length; i += 100) {
        const body = JSON.stringify(ids.slice(i, i + 100).map((id) => ({ id, importMode: 'create', authentication })));
        const response = await hub.fetch('/devices', { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body });
        const text = await response.text();
        if (!response.ok) throw new Error(`bulk create: ${response.status} ${text}`);
        const result = JSON.parse(text) as { isSuccessful?: boolean; errors?: unknown[] };
        if (result.errors && result.errors.length > 0) throw new Error(`bulk create: ${JSON.stringify(result.errors.slice(0, 3))}`);
      }
    },
    async countEvents() {
      const response = await hub.fetch('/events/partitions', { headers: { authorization: token() } });
      if (!response.ok) throw new Error(`reading partition heads: ${response.status} ${await response.text()}`);
      const partitions = (await response.json()) as { beginningSequenceNumber: number; lastEnqueuedSequenceNumber: number; isEmpty: boolean }[];
      return partitions.reduce((sum, p) => sum + (p.isEmpty ? 0 : p.lastEnqueuedSequenceNumber - p.beginningSequenceNumber + 1), 0);
    },
    async settledRssBytes() {
      process.kill(hub.info.pid, 'SIGUSR2');
      await Bun.sleep(GC_GRACE_MS);
      return rssBytes(hub.info.pid);
    },
    profileHeapNow() {
      if (process.env.HUB_HEAP_PROFILE_DIR) process.kill(hub.info.pid, 'SIGUSR1');
    },
    async stop() {
      await hub.stop();
    },
  };
}

/** Runs `body` against a fresh hub and always stops the hub, also when `body` throws. */
export async function withHub<T>(storage: Storage, body: (hub: BenchHub) => Promise<T>): Promise<T> {
  const hub = await startBenchHub(storage);
  try {
    return await body(hub);
  } finally {
    await hub.stop();
  }
}

export const deviceIds = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

/** A 200-byte JSON telemetry body. */
export const PAYLOAD_200_BYTES = (() => {
  const base = { temperature: 21.5, humidity: 40, pad: '' };
  const pad = 200 - JSON.stringify(base).length;
  return JSON.stringify({ ...base, pad: 'x'.repeat(pad) });
})();
