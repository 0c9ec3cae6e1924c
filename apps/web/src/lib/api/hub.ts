// The console's one way to call the hub: same-origin requests authenticated by the operator's
// session cookie. Owns the CSRF header every state-changing request carries, turning IoT Hub
// error bodies (`{"Message":"ErrorCode:<Name>;<text>"}`) into one error type with the hub's own
// words, and announcing an expired session. It owns no resource shapes (see types.ts).

/** Header the hub requires on cookie-authenticated requests that change something (CSRF guard). */
export const CONSOLE_HEADER = 'x-tributary-console';

/** Why a hub call failed: the hub's error code and message as it sent them, or a network failure. */
export class HubApiError extends Error {
  override name = 'HubApiError';

  constructor(
    message: string,
    /** HTTP status; 0 when the hub could not be reached. */
    readonly status: number,
    /** IoT Hub's error code name, e.g. `DeviceNotFound`, `PreconditionFailed`. */
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const sessionEndedListeners = new Set<() => void>();

/** Called when a request comes back 401 (the session expired or was revoked); returns the unsubscribe. */
export function onSessionEnded(listener: () => void): () => void {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

/** The error code and text of an IoT Hub error body, when `text` is one. */
export function parseHubError(text: string): { code?: string; message?: string } {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null && 'Message' in body && typeof body.Message === 'string') {
      const match = /^ErrorCode:(\w+);(.*)$/s.exec(body.Message);
      return match ? { code: match[1], message: match[2] || match[1] } : { message: body.Message };
    }
  } catch {
    // Not JSON.
  }
  return {};
}

export interface HubRequest {
  method?: string;
  /** A JSON body (serialised here) or raw text/bytes. */
  json?: unknown;
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * Calls the hub at `path` (e.g. `/devices/d1`) and returns the response once it is 2xx; throws
 * HubApiError with the hub's message otherwise.
 */
export async function hubFetch(path: string, request: HubRequest = {}): Promise<Response> {
  const method = request.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (method !== 'GET' && method !== 'HEAD') headers[CONSOLE_HEADER] = '1';
  let body = request.body;
  if (request.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.json);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, signal: request.signal, credentials: 'same-origin', cache: 'no-store' });
  } catch (cause) {
    if (request.signal?.aborted) throw cause;
    throw new HubApiError('Could not reach the hub.', 0, undefined, { cause });
  }
  if (response.ok) return response;
  const text = await response.text();
  const { code, message } = parseHubError(text);
  if (response.status === 401 && path !== '/console/api/login') for (const listener of sessionEndedListeners) listener();
  throw new HubApiError(message ?? (text || `The hub answered ${response.status} ${response.statusText}`.trim()), response.status, code);
}

/** `hubFetch` for JSON answers; undefined for 204. */
export async function hubJson<T>(path: string, request: HubRequest = {}): Promise<T> {
  const response = await hubFetch(path, request);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** `encodeURIComponent` for a path segment (device ids may hold `:`, `@`, `$` and more). */
export const segment = (id: string) => encodeURIComponent(id);
