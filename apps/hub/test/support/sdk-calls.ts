/**
 * Small adapters between the official SDKs' callback and event style and the tests' async/await:
 * the next event an SDK emits, a callback turned into a promise, the error a call fails with,
 * token expiry times, and a SAS device created through the service SDK's `Registry`.
 * @module
 */

import type { Registry } from 'azure-iothub';

/** Resolves with the first value `register` hands its callback, or fails after `timeoutMs`. */
export function nextEvent<T>(register: (callback: (value: T) => void) => void, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('event did not arrive in time')), timeoutMs);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

/** Runs an SDK call that takes a Node-style `done` callback, as a promise. */
export const callback = <T = void>(run: (done: (error?: Error | null, result?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => run((error, result) => (error ? reject(error) : resolve(result as T))));

/** The error `promise` rejects with; fails when it resolves. */
export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: Error) => error,
  );
}

/** A token expiry `seconds` from now, in epoch seconds. */
export const expiresIn = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

/** Creates `deviceId` through `registry` with generated keys; returns its primary key and connection string. */
export async function createSasDevice(registry: Registry, hostName: string, deviceId: string) {
  const { responseBody } = await registry.create({ deviceId });
  const key = responseBody.authentication!.symmetricKey!.primaryKey!;
  return { deviceId, key, connectionString: `HostName=${hostName};DeviceId=${deviceId};SharedAccessKey=${key}` };
}
