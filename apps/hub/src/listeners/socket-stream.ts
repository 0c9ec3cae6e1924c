/**
 * Adapts a Bun TCP/TLS socket to the adapters' ByteStream: coalesces the writes of one turn of the
 * event loop into one socket write (a group commit acknowledges many publishes of a connection at
 * once; one TLS record and one syscall for all their PUBACKs instead of one each), buffers what
 * the kernel did not take and flushes it on drain (no write is ever dropped), and reads the TLS
 * peer certificate chain.
 * @module
 */

import type { Socket } from 'bun';
import type { ByteStream } from '../adapters/mqtt/byte-stream.ts';
import type { MqttConnection } from '../adapters/mqtt/connection.ts';
import { certificateChainOf, type PeerCertificate } from '../tls/peer-certificates.ts';

/** The chain of every peer that presented no certificate: one empty array, never modified. */
const NO_CERTIFICATES: Uint8Array[] = [];

/** DER certificates the peer presented, leaf first. */
function peerChainOf(socket: Socket<unknown>): Uint8Array[] {
  const peer = socket as unknown as { getPeerCertificate?(detailed: boolean): PeerCertificate | undefined };
  const chain = certificateChainOf(peer.getPeerCertificate?.(true));
  return chain.length > 0 ? chain : NO_CERTIFICATES;
}

export class SocketStream implements ByteStream {
  readonly remoteAddress: string;
  readonly peerCertificateChain: Uint8Array[];
  /** The MQTT connection reading this stream; the socket's data, so the socket carries one object. */
  connection: MqttConnection | undefined;
  readonly #socket: Socket<unknown>;
  /** What the kernel did not take yet, oldest first; undefined while nothing waits (the usual case). */
  #pending: Uint8Array[] | undefined;
  /** Writes of this turn, sent together once the current microtasks have run. */
  #corked: Uint8Array[] | undefined;
  #isEnding = false;

  constructor(socket: Socket<unknown>, readonly transport: string) {
    this.#socket = socket;
    this.remoteAddress = socket.remoteAddress;
    this.peerCertificateChain = transport === 'mqtts' ? peerChainOf(socket) : NO_CERTIFICATES;
  }

  write(bytes: Uint8Array): void {
    if (this.#corked) {
      this.#corked.push(bytes);
      return;
    }
    this.#corked = [bytes];
    setImmediate(() => this.#uncork());
  }

  #uncork(): void {
    const chunks = this.#corked;
    if (!chunks) return;
    this.#corked = undefined;
    this.#send(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  #send(bytes: Uint8Array): void {
    if (this.#pending) {
      this.#pending.push(bytes);
      return;
    }
    const written = this.#socket.write(bytes);
    if (written < bytes.byteLength) this.#pending = [bytes.subarray(Math.max(0, written))];
  }

  /** The socket can take more: write what was held back. */
  drain(): void {
    const pending = this.#pending;
    while (pending && pending.length > 0) {
      const next = pending[0]!;
      const written = this.#socket.write(next);
      if (written < next.byteLength) {
        pending[0] = next.subarray(Math.max(0, written));
        return;
      }
      pending.shift();
    }
    this.#pending = undefined;
    if (this.#isEnding) this.#socket.end();
  }

  end(): void {
    this.#uncork();
    this.#isEnding = true;
    if (!this.#pending) this.#socket.end();
  }
}
