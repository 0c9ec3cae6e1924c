/**
 * TLS termination for the HTTPS port, in front of the hub's HTTP server. Bun's HTTP server
 * cannot show a handler the client's TLS certificate, and IoT Hub's HTTPS device API (and the
 * WebSocket transports) authenticate X.509 devices by exactly that certificate. So the public
 * port is a `Bun.listen` TLS socket that requests a client certificate, and each connection is
 * relayed byte for byte to the HTTP server on a loopback port. The relay's local port names the
 * connection there: the HTTP server looks it up with `peerOf(server.requestIP(request).port)` to
 * learn the client's address and certificate chain.
 *
 * Backpressure both ways: what a side cannot take yet is queued and the other side is paused
 * until it drains, so a slow reader never makes the hub buffer without bound.
 * @module
 */

import type { Socket, TCPSocketListener } from 'bun';
import { certificateChainOf, type PeerCertificate } from '../tls/peer-certificates.ts';

export interface TlsPeer {
  remoteAddress: string;
  certificateChain: Uint8Array[];
}

/** One relayed connection: the client's TLS socket and the loopback socket to the HTTP server. */
interface Relay {
  client: Socket<Relay>;
  upstream?: Socket<Relay>;
  peer?: TlsPeer;
  /** Bytes for the HTTP server that it could not take yet (or that arrived before it was connected). */
  toUpstream: Uint8Array[];
  /** Bytes for the client that its socket could not take yet. */
  toClient: Uint8Array[];
  clientEnded: boolean;
  upstreamEnded: boolean;
}

export interface TlsFront {
  readonly port: number;
  /** The client behind the relay connection whose loopback source port is `port`. */
  peerOf(port: number): TlsPeer | undefined;
  stop(closeActiveConnections?: boolean): void;
}

/** Writes what the queue holds, then `bytes`; what the socket does not take stays queued. True when nothing is left. */
function writeQueued(socket: Socket<Relay>, queue: Uint8Array[], bytes?: Uint8Array): boolean {
  if (bytes) {
    if (queue.length > 0) {
      queue.push(bytes.slice());
      return false;
    }
    const written = socket.write(bytes);
    if (written >= bytes.byteLength) return true;
    queue.push(bytes.slice(Math.max(0, written)));
    return false;
  }
  while (queue.length > 0) {
    const next = queue[0]!;
    const written = socket.write(next);
    if (written < next.byteLength) {
      queue[0] = next.subarray(Math.max(0, written));
      return false;
    }
    queue.shift();
  }
  return true;
}

export function listenTlsFront(options: {
  hostname: string;
  port: number;
  tls: { cert: string; key: string };
  upstreamPort: number;
}): TlsFront {
  const peers = new Map<number, TlsPeer>();

  const closeRelay = (relay: Relay) => {
    if (relay.upstream) peers.delete(relay.upstream.localPort);
    relay.client.end();
    relay.upstream?.end();
  };

  const connectUpstream = (relay: Relay) => {
    Bun.connect<Relay>({
      hostname: '127.0.0.1',
      port: options.upstreamPort,
      data: relay,
      socket: {
        open(upstream) {
          relay.upstream = upstream;
          peers.set(upstream.localPort, relay.peer!);
          if (!writeQueued(upstream, relay.toUpstream)) relay.client.pause();
          else if (relay.clientEnded) upstream.end();
        },
        data(upstream, bytes) {
          if (!writeQueued(relay.client, relay.toClient, bytes)) upstream.pause();
        },
        drain(upstream) {
          if (!writeQueued(upstream, relay.toUpstream)) return;
          if (relay.clientEnded) upstream.end();
          else relay.client.resume();
        },
        end() {
          relay.upstreamEnded = true;
          if (relay.toClient.length === 0) closeRelay(relay);
        },
        close(upstream) {
          peers.delete(upstream.localPort);
          relay.upstreamEnded = true;
          if (relay.toClient.length === 0) relay.client.end();
        },
        error() {},
        connectError() {
          relay.client.end();
        },
      },
    }).catch(() => relay.client.end());
  };

  const listener: TCPSocketListener<Relay> = Bun.listen<Relay>({
    hostname: options.hostname,
    port: options.port,
    // Ask for a certificate but accept connections without one (SAS devices, browsers, the
    // service SDK); the device authenticator decides what a presented certificate proves.
    tls: { ...options.tls, requestCert: true, rejectUnauthorized: false },
    socket: {
      open(client) {
        client.data = { client, toUpstream: [], toClient: [], clientEnded: false, upstreamEnded: false };
      },
      handshake(client) {
        const relay = client.data;
        const presented = (client as unknown as { getPeerCertificate(detailed: boolean): PeerCertificate | undefined })
          .getPeerCertificate(true);
        relay.peer = { remoteAddress: client.remoteAddress, certificateChain: certificateChainOf(presented) };
        connectUpstream(relay);
      },
      data(client, bytes) {
        const relay = client.data;
        if (!relay.upstream) {
          relay.toUpstream.push(bytes.slice());
          return;
        }
        if (!writeQueued(relay.upstream, relay.toUpstream, bytes)) client.pause();
      },
      drain(client) {
        const relay = client.data;
        if (writeQueued(client, relay.toClient)) {
          if (relay.upstreamEnded) closeRelay(relay);
          else relay.upstream?.resume();
        }
      },
      end(client) {
        // Half-close: the HTTP server still gets what the client sent before it.
        const relay = client.data;
        relay.clientEnded = true;
        if (relay.upstream && relay.toUpstream.length === 0) relay.upstream.end();
      },
      close(client) {
        const relay = client.data;
        relay.clientEnded = true;
        if (relay.upstream) peers.delete(relay.upstream.localPort);
        relay.upstream?.end();
      },
      error() {},
    },
  });

  return {
    port: listener.port,
    peerOf: (port) => peers.get(port),
    stop: (closeActiveConnections) => listener.stop(closeActiveConnections),
  };
}
