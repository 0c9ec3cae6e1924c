/**
 * Who is on the other end of an HTTP request: what the TLS layer knows and Bun's HTTP server
 * does not expose (the client certificate chain), carried to the handlers beside the Request.
 * @module
 */

export interface ClientConnection {
  /** The client's address (not the TLS front's loopback hop). */
  remoteAddress: string;
  /** The request arrived over TLS (the HTTPS port), not the loopback plain-HTTP port. */
  isTls: boolean;
  /** DER certificates the client presented in the TLS handshake, leaf first; empty when none. */
  certificateChain: Uint8Array[];
}

/** Hono's `Bindings` for apps that read the connection (`c.env.client`). */
export interface ClientConnectionEnv {
  Bindings: { client?: ClientConnection };
}
