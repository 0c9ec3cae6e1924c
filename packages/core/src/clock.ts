/**
 * Time as core sees it. Everything in core that reads the time takes a `Clock`, so tests can
 * advance a fake one instead of sleeping.
 * @module
 */

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
