/**
 * A gate for fakes that must hold a call mid-flight, like a store or peer whose reply is still on
 * its way: while closed, `pass()` waits; `open()` lets everything waiting through.
 * @module
 */

export class Gate {
  #isClosed = false;
  #waiting: (() => void)[] = [];

  /** Later `pass()` calls wait until `open()`. */
  close(): void {
    this.#isClosed = true;
  }

  /** Releases every waiting call, and lets later ones straight through. */
  open(): void {
    this.#isClosed = false;
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const go of waiting) go();
  }

  get waitingCount(): number {
    return this.#waiting.length;
  }

  /** Resolves at once when open, or on the next `open()`. */
  async pass(): Promise<void> {
    if (this.#isClosed) await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
}
