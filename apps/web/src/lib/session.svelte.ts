// The logged-in operator, loaded once from `GET /console/api/session` and shared by every page.
// Owns login, logout and noticing that the session ended; it does not navigate (the layout
// decides where an anonymous visitor goes) and does not guard the hub (the hub checks every call).
import { HubApiError, hubFetch, hubJson, onSessionEnded } from '#lib/api/hub.ts';
import type { ConsoleSession } from '#lib/api/types.ts';

/** Tooltip and note for controls a viewer cannot use. */
export const READ_ONLY_HINT = 'viewers cannot change anything';

type SessionStatus = 'loading' | 'signedIn' | 'anonymous' | 'error';

class SessionStore {
  status = $state<SessionStatus>('loading');
  current = $state<ConsoleSession | null>(null);
  /** Why the session could not be loaded (hub unreachable), shown by the layout. */
  error = $state('');
  #loading: Promise<void> | undefined;

  /** Loads the session once; later calls share the first request. */
  load(): Promise<void> {
    this.#loading ??= this.#fetch();
    return this.#loading;
  }

  /** Asks the hub again, e.g. after a 401 that may only mean "viewers cannot do that". */
  refresh(): Promise<void> {
    this.#loading = this.#fetch();
    return this.#loading;
  }

  async #fetch(): Promise<void> {
    try {
      this.#signIn(await hubJson<ConsoleSession>('/console/api/session'));
    } catch (error) {
      if (error instanceof HubApiError && error.status === 401) this.#signOut();
      else {
        this.status = 'error';
        this.error = error instanceof Error ? error.message : String(error);
      }
    }
  }

  /** Throws HubApiError with the hub's message (wrong password, rate limited). */
  async login(username: string, password: string): Promise<void> {
    this.#signIn(await hubJson<ConsoleSession>('/console/api/login', { method: 'POST', json: { username, password } }));
  }

  async logout(): Promise<void> {
    try {
      await hubFetch('/console/api/logout', { method: 'POST' });
    } finally {
      this.#signOut();
    }
  }

  #signIn(session: ConsoleSession) {
    this.current = session;
    this.status = 'signedIn';
    this.error = '';
    this.#loading = Promise.resolve();
  }

  #signOut() {
    this.current = null;
    this.status = 'anonymous';
    this.#loading = Promise.resolve();
  }
}

export const session = new SessionStore();

/** Whether the logged-in operator may change anything (admins only). Reactive in templates and `$derived`. */
export function canWrite(): boolean {
  return session.current?.role === 'admin';
}

let isRechecking = false;
// hub.ts reports every 401, and a viewer's refused write is a 401 too: ask the hub whether the
// session really ended before treating the operator as logged out.
onSessionEnded(() => {
  if (isRechecking || session.status !== 'signedIn') return;
  isRechecking = true;
  void session.refresh().finally(() => (isRechecking = false));
});
