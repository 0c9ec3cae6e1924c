/**
 * Login rate limiting: after `maxFailures` wrong passwords for one username from one address
 * within `windowMs`, further attempts are refused (429 ThrottlingException) until the oldest
 * failure leaves the window. A success clears the record. Kept in memory, per hub process.
 * @module
 */

import { type Clock, HubError } from '@tributary/core';

export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(private readonly options: { clock: Clock; maxFailures?: number; windowMs?: number }) {}

  get #max() {
    return this.options.maxFailures ?? 5;
  }
  get #windowMs() {
    return this.options.windowMs ?? 15 * 60 * 1000;
  }

  #recent(key: string): number[] {
    const since = this.options.clock.now() - this.#windowMs;
    const recent = (this.#failures.get(key) ?? []).filter((at) => at > since);
    if (recent.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, recent);
    return recent;
  }

  /** Throws ThrottlingException when `key` has failed too often lately. */
  check(key: string): void {
    const recent = this.#recent(key);
    if (recent.length < this.#max) return;
    const retryInSeconds = Math.ceil((recent[0]! + this.#windowMs - this.options.clock.now()) / 1000);
    throw new HubError('ThrottlingException', `Too many failed logins: try again in ${retryInSeconds} seconds`);
  }

  failed(key: string): void {
    this.#failures.set(key, [...this.#recent(key), this.options.clock.now()]);
  }

  succeeded(key: string): void {
    this.#failures.delete(key);
  }
}
