import { describe, expect, test } from 'bun:test';
import { fetchHealth, formatUptime, HealthError, parseHealth } from './health.ts';

/** A fetch stand-in that answers every request with one canned response. */
function answering(body: string, init: ResponseInit = {}): typeof fetch {
  return (async () => new Response(body, init)) as unknown as typeof fetch;
}

describe('fetchHealth', () => {
  test('a healthy hub resolves with its version and uptime', async () => {
    const health = await fetchHealth({
      fetch: answering(JSON.stringify({ status: 'ok', version: '0.1.0', uptimeSeconds: 12 })),
    });
    expect(health).toEqual({ status: 'ok', version: '0.1.0', uptimeSeconds: 12 });
  });

  test('an IoT Hub error body surfaces the hub’s own message', async () => {
    const body = JSON.stringify({ Message: 'ErrorCode:ServerError;Database is unavailable', ExceptionMessage: '' });
    const failure = fetchHealth({ fetch: answering(body, { status: 503 }) });
    await expect(failure).rejects.toBeInstanceOf(HealthError);
    await expect(failure).rejects.toMatchObject({ message: 'Database is unavailable', status: 503 });
  });

  test('a non-JSON error answer falls back to the status line', async () => {
    const failure = fetchHealth({ fetch: answering('bad gateway', { status: 502, statusText: 'Bad Gateway' }) });
    await expect(failure).rejects.toMatchObject({ message: 'The hub answered 502 Bad Gateway', status: 502 });
  });

  test('a network failure reports that the hub is unreachable', async () => {
    const refuse = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(fetchHealth({ fetch: refuse })).rejects.toMatchObject({ message: 'Could not reach the hub.' });
  });

  test('a 200 that is not JSON is rejected', async () => {
    await expect(fetchHealth({ fetch: answering('<html>') })).rejects.toBeInstanceOf(HealthError);
  });
});

describe('parseHealth', () => {
  test.each([null, 'ok', {}, { status: 'down', version: '1', uptimeSeconds: 1 }, { status: 'ok', version: 1, uptimeSeconds: 1 }, { status: 'ok', version: '1', uptimeSeconds: 'x' }])(
    'rejects %p',
    (body) => {
      expect(() => parseHealth(body)).toThrow(HealthError);
    },
  );
});

describe('formatUptime', () => {
  test.each([
    [0, '0s'],
    [42.9, '42s'],
    [303, '5m 3s'],
    [3 * 3600 + 12 * 60 + 5, '3h 12m'],
    [2 * 86_400 + 4 * 3600 + 59, '2d 4h'],
    [-5, '0s'],
  ])('%p seconds reads %p', (seconds, expected) => {
    expect(formatUptime(seconds)).toBe(expected);
  });
});

describe('fetchHealth with a signal', () => {
  test('a request that outlives its timeout reports that the hub did not answer in time', async () => {
    const hang = ((_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted')));
      })) as unknown as typeof fetch;
    await expect(fetchHealth({ fetch: hang, signal: AbortSignal.timeout(5) })).rejects.toMatchObject({
      message: 'The hub did not answer in time.',
    });
  });
});
