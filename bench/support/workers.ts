/**
 * The runner side of the worker protocol (see load/worker-io.ts): each load-generator worker is
 * a separate `bun` process, started through `sh` so it can raise its own file-descriptor limit.
 * @module
 */

import type { Subprocess } from 'bun';
import type { WorkerCommand } from '../load/worker-io.ts';

const LOAD_DIR = new URL('../load/', import.meta.url).pathname;

export interface WorkerResult {
  error?: string;
  cpuMs: number;
  rssBytes: number;
  [key: string]: unknown;
}

export interface Worker {
  pid: number;
  /** Resolves with the `ready` message (after the worker's connections are up). */
  ready: Promise<Record<string, unknown>>;
  result: Promise<WorkerResult>;
  send(command: WorkerCommand): void;
  /** Resolves with the first message of `type` the worker writes (e.g. `opened`). */
  waitFor(type: string): Promise<Record<string, unknown>>;
  kill(): void;
}

export function startWorker(entry: string, config: unknown): Worker {
  const child: Subprocess<'pipe', 'pipe', 'inherit'> = Bun.spawn(
    ['sh', '-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec bun "$0"', `${LOAD_DIR}${entry}`],
    { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' },
  );
  const ready = Promise.withResolvers<Record<string, unknown>>();
  const result = Promise.withResolvers<WorkerResult>();
  const waiting = new Map<string, ReturnType<typeof Promise.withResolvers<Record<string, unknown>>>>();
  const waiter = (type: string) => {
    let entry = waiting.get(type);
    if (!entry) waiting.set(type, (entry = Promise.withResolvers()));
    return entry;
  };
  const send = (message: unknown) => {
    child.stdin.write(JSON.stringify(message) + '\n');
    void child.stdin.flush();
  };
  (async () => {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const message = JSON.parse(line) as { type: string } & Record<string, unknown>;
        if (message.type === 'ready') ready.resolve(message);
        waiter(message.type).resolve(message);
        if (message.type === 'result') {
          if (message.error) ready.reject(new Error(`${entry}: ${message.error}`));
          result.resolve(message as unknown as WorkerResult);
        }
      }
    }
    const code = await child.exited;
    const failure = new Error(`${entry} exited with ${code} before reporting`);
    ready.reject(failure);
    result.reject(failure);
  })().catch((error) => {
    ready.reject(error);
    result.reject(error);
  });
  ready.promise.catch(() => {});
  result.promise.catch(() => {});
  send(config);
  return {
    pid: child.pid,
    ready: ready.promise,
    result: result.promise.then((value) => {
      if (value.error) throw new Error(`${entry}: ${value.error}`);
      return value;
    }),
    send,
    waitFor: (type) => waiter(type).promise,
    kill: () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Starts workers, waits until all are ready, runs `body`, and always kills the ones still running. */
export async function withWorkers<T>(specs: { entry: string; config: unknown }[], body: (workers: Worker[]) => Promise<T>): Promise<T> {
  const workers = specs.map(({ entry, config }) => startWorker(entry, config));
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    return await body(workers);
  } finally {
    for (const worker of workers) worker.kill();
  }
}

/** Splits `items` into `parts` near-equal slices (for spreading devices over workers). */
export function split<T>(items: T[], parts: number): T[][] {
  return Array.from({ length: parts }, (_, part) => items.filter((_, index) => index % parts === part));
}
