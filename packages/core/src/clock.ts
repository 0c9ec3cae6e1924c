/**
 * Time as core sees it. Everything in core that reads the time or waits takes a `Clock`, so tests
 * advance a fake one instead of sleeping.
 * @module
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `callback` after `delayMs`; returns a function that cancels it. */
  schedule(delayMs: number, callback: () => void): () => void;
}

/** The longest delay setTimeout honours; longer ones fire at once (Node and Bun clamp them to 1 ms). */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, callback) {
    // Long delays (SAS tokens valid for months) are waited out in steps the runtime honours.
    const dueAt = Date.now() + delayMs;
    let timer: ReturnType<typeof setTimeout>;
    const arm = () => {
      const remaining = dueAt - Date.now();
      timer = remaining > MAX_TIMER_DELAY_MS ? setTimeout(arm, MAX_TIMER_DELAY_MS) : setTimeout(callback, Math.max(0, remaining));
    };
    arm();
    return () => clearTimeout(timer);
  },
};

let lastIsoMs = Number.NaN;
let lastIso = '';

/**
 * `new Date(ms).toISOString()`, remembering the last answer: the event stream's times repeat
 * (every event of one millisecond has the same), and formatting each anew took about 5 % of the
 * hub's CPU while it served pages of events. Throws RangeError for an invalid time, as Date does.
 */
export function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}
