// Repeating a request on a fixed cadence without piling requests up: the next run starts
// `intervalMs` after the previous one finished, and stopping aborts the one in flight.

/**
 * Runs `task` now and again `intervalMs` after each run settles, until the returned stop
 * function is called. Made for `$effect`: return the stop function as the cleanup.
 * @example $effect(() => startPolling(async (signal) => (overview = await getOverview(signal)), 5_000));
 */
export function startPolling(task: (signal: AbortSignal) => Promise<unknown>, intervalMs: number): () => void {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function run() {
    try {
      await task(controller.signal);
    } catch {
      // The task shows its own errors; polling carries on.
    }
    if (!controller.signal.aborted) timer = setTimeout(run, intervalMs);
  }

  void run();
  return () => {
    controller.abort();
    clearTimeout(timer);
  };
}
