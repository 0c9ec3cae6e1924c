/**
 * The worker side of the runner ↔ worker protocol. The runner writes JSON lines to stdin: the
 * config first, then `{"command":"go"}` and `{"command":"stop", ...}`; the worker writes JSON
 * lines to stdout: `{"type":"ready"}` once connected and finally `{"type":"result", ...}`.
 * @module
 */

export interface WorkerCommand {
  command: 'go' | 'stop';
  /** With `stop`: how many messages the receiving side should have seen before reporting. */
  expected?: number;
}

const decoder = new TextDecoder();
const reader = Bun.stdin.stream().getReader();
let buffered = '';

async function nextLine(): Promise<string> {
  for (;;) {
    const newline = buffered.indexOf('\n');
    if (newline >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      return line;
    }
    const { value, done } = await reader.read();
    if (done) throw new Error('the runner closed stdin');
    buffered += decoder.decode(value, { stream: true });
  }
}

export async function readConfig<T>(): Promise<T> {
  return JSON.parse(await nextLine()) as T;
}

let cpuAtGoMs = 0;
let goAt = 0;
const cpuMsNow = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export async function nextCommand(): Promise<WorkerCommand> {
  const command = JSON.parse(await nextLine()) as WorkerCommand;
  if (command.command === 'go') {
    cpuAtGoMs = cpuMsNow();
    goAt = performance.now();
  }
  return command;
}

function send(message: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(message) + '\n');
}

export function reportReady(details: Record<string, unknown> = {}): void {
  send({ type: 'ready', ...details });
}

/**
 * The final result, with this worker's own CPU time since `go` (and the wall time it spans) so
 * the runner can tell whether the load generator was the limit.
 */
export function reportResult(result: Record<string, unknown>): void {
  send({ type: 'result', ...result, cpuMs: cpuMsNow() - cpuAtGoMs, wallMs: performance.now() - goAt, rssBytes: process.memoryUsage.rss() });
}

/** Runs a worker's main, reporting a failure as a result with `error` (and exit code 1). */
export async function runWorker(main: () => Promise<void>): Promise<void> {
  try {
    await main();
    process.exit(0);
  } catch (error) {
    send({ type: 'result', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  }
}

/** Opens `count` things with at most `concurrency` opening at once. */
export async function openAll<T>(count: number, concurrency: number, open: (index: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        out[index] = await open(index);
      }
    }),
  );
  return out;
}
