/**
 * Assertions for synchronous code that must fail with a HubError.
 * @module
 */

import { expect } from 'bun:test';
import { HubError, type HubErrorName } from '../errors.ts';

/** Runs `fn` and returns what it threw; fails the test when it returns normally. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

/** Asserts `fn` throws a HubError with `code` (and a message containing `messagePart`); returns it. */
export function expectHubError(fn: () => unknown, code: HubErrorName, messagePart?: string): HubError {
  const thrown = thrownBy(fn);
  expect(thrown).toBeInstanceOf(HubError);
  expect((thrown as HubError).code).toBe(code);
  if (messagePart !== undefined) expect((thrown as HubError).message).toContain(messagePart);
  return thrown as HubError;
}
