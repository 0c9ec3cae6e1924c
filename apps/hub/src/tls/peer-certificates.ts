/**
 * The certificate chain a TLS client presented (node:tls `getPeerCertificate(true)` shape, which
 * Bun sockets and rhea connections both expose), as DER buffers, leaf first.
 * @module
 */

export interface PeerCertificate {
  raw?: Uint8Array;
  fingerprint256?: string;
  issuerCertificate?: PeerCertificate;
}

export function certificateChainOf(leaf: PeerCertificate | undefined): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  // Self-issued certificates point at themselves: stop at the first repeat.
  for (let cert = leaf; cert?.raw && !seen.has(cert.fingerprint256 ?? String(chain.length)); cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256 ?? String(chain.length));
    chain.push(new Uint8Array(cert.raw));
  }
  return chain;
}
