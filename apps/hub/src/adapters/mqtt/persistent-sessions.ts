/**
 * MQTT persistent sessions (CONNECT clean=0): the subscriptions of a client id kept across
 * reconnects. The Azure SDK reconnects with clean=0 on every SAS renewal WITHOUT subscribing again
 * (digest §4.6), so C2D, methods and twin silently stop unless the hub restores them.
 * Kept in this process's memory: a hub restart forgets them (noted for later persistence).
 * @module
 */

import type { Subscription } from './topics.ts';

export class PersistentSessions {
  readonly #byClientId = new Map<string, Set<Subscription>>();

  /** On CONNECT: clean=1 forgets any stored session; returns the stored subscriptions (clean=0). */
  resume(clientId: string, isCleanSession: boolean): { isPresent: boolean; subscriptions: Set<Subscription> } {
    if (isCleanSession) {
      this.#byClientId.delete(clientId);
      return { isPresent: false, subscriptions: new Set() };
    }
    const stored = this.#byClientId.get(clientId);
    if (stored) return { isPresent: true, subscriptions: stored };
    const created = new Set<Subscription>();
    this.#byClientId.set(clientId, created);
    return { isPresent: false, subscriptions: created };
  }
}
