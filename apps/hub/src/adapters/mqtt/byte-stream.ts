/**
 * The one thing listeners hand the MQTT adapter: a duplex byte stream (TLS socket, TCP socket or
 * WebSocket) plus what TLS learned about the peer. The adapter never sees a socket API.
 * @module
 */

export interface ByteStream {
  write(bytes: Uint8Array): void;
  /** Closes the stream after pending writes. */
  end(): void;
  readonly remoteAddress: string;
  /** DER certificates the TLS peer presented, leaf first; empty without a client certificate. */
  readonly peerCertificateChain: Uint8Array[];
  /** `mqtts`, `mqtt-ws`, `mqtt` — for logs and the connection's auth facts. */
  readonly transport: string;
}
