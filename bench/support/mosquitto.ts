/**
 * Runs a Mosquitto broker for the side-by-side D2C comparison: a temp config (loopback listener
 * on a free port, anonymous, no persistence), started with `-c`, stopped by its pid.
 * @module
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO_BINARY = '/usr/sbin/mosquitto';

export interface RunningMosquitto {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export function hasMosquitto(): boolean {
  return existsSync(MOSQUITTO_BINARY);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } });
      socket.end();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${error}`);
      await Bun.sleep(50);
    }
  }
}

export async function startMosquitto(): Promise<RunningMosquitto> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'tributary-bench-mosquitto-'));
  const configPath = join(dir, 'mosquitto.conf');
  await writeFile(configPath, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ''].join('\n'));
  const child = Bun.spawn([MOSQUITTO_BINARY, '-c', configPath], { stdout: 'ignore', stderr: 'pipe' });
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  const stop = async () => {
    child.kill('SIGTERM');
    await child.exited;
    process.off('exit', killChild);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 5000);
  } catch (error) {
    await stop();
    throw new Error(`${error}\n${await new Response(child.stderr).text()}`);
  }
  return { pid: child.pid, port, stop };
}
