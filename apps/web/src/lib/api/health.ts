// Typed client for the hub's liveness endpoint, `GET /health`, on the console's own origin.
// Owns the request, the response shape and turning failures into one error type; it does not
// own polling or presentation (the page decides how often to ask and how to show the answer).

/** What the hub answers on `GET /health`. */
export interface Health {
  status: 'ok';
  /** The hub's version string, e.g. `0.1.0`. */
  version: string;
  /** Seconds since the hub process started. */
  uptimeSeconds: number;
}

/** Why a health check failed, with a message that is safe to show an operator. */
export class HealthError extends Error {
  override name = 'HealthError';

  constructor(
    message: string,
    /** HTTP status, when the hub answered at all. */
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Asks the hub whether it is alive.
 *
 * Resolves with the parsed body, or rejects with a {@link HealthError} when the hub is
 * unreachable, answers with a non-2xx status (its own error message is kept), or sends a body
 * that is not a health report.
 *
 * @example
 * const health = await fetchHealth({ signal: AbortSignal.timeout(5_000) });
 * console.log(health.version, health.uptimeSeconds);
 */
export async function fetchHealth(
  options: { signal?: AbortSignal; fetch?: typeof fetch } = {},
): Promise<Health> {
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch('/health', {
      headers: { accept: 'application/json' },
      cache: 'no-store',
      signal: options.signal,
    });
  } catch (cause) {
    // Browsers differ in what they reject with once a signal fires, so ask the signal itself.
    const reason: unknown = options.signal?.aborted ? options.signal.reason : cause;
    const reasonName = reason instanceof Error || reason instanceof DOMException ? reason.name : '';
    if (reasonName === 'TimeoutError') {
      throw new HealthError('The hub did not answer in time.', undefined, { cause });
    }
    if (reasonName === 'AbortError') {
      throw new HealthError('The health check was cancelled.', undefined, { cause });
    }
    throw new HealthError('Could not reach the hub.', undefined, { cause });
  }

  const text = await response.text();
  if (!response.ok) {
    const fallback = `The hub answered ${response.status} ${response.statusText}`.trim();
    throw new HealthError(hubErrorMessage(text) ?? fallback, response.status);
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new HealthError('The hub sent a health report that is not JSON.', response.status, {
      cause,
    });
  }
  return parseHealth(body, response.status);
}

/** Checks an unknown JSON value against the {@link Health} shape. */
export function parseHealth(body: unknown, status?: number): Health {
  if (typeof body === 'object' && body !== null) {
    const { status: state, version, uptimeSeconds } = body as Record<string, unknown>;
    const isUptime = typeof uptimeSeconds === 'number' && Number.isFinite(uptimeSeconds);
    if (state === 'ok' && typeof version === 'string' && isUptime) {
      return { status: state, version, uptimeSeconds };
    }
  }
  throw new HealthError('The hub sent an unexpected health report.', status);
}

/**
 * Pulls the readable text out of an IoT Hub style error body,
 * `{"Message":"ErrorCode:<Name>;<text>", ...}`, so operators see the hub's own words.
 */
function hubErrorMessage(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'Message' in body) {
      const message = body.Message;
      if (typeof message !== 'string') return undefined;
      const match = /^ErrorCode:(\w+);(.*)$/s.exec(message);
      return match ? match[2] || match[1] : message;
    }
  } catch {
    // Not JSON: fall back to the status line.
  }
  return undefined;
}

/**
 * Formats an uptime for people: `42s`, `5m 3s`, `3h 12m`, `2d 4h`.
 * Only the two largest units are shown; a health card does not need more precision.
 */
export function formatUptime(uptimeSeconds: number): string {
  const total = Math.max(0, Math.floor(uptimeSeconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}
