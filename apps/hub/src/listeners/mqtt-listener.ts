/**
 * MQTT over TLS (8883) and, when configured, plain TCP: sockets only. Each socket becomes a
 * ByteStream handed to a new MqttConnection. TLS requests (does not require) a client
 * certificate, so X.509 devices authenticate and failures are answered at the MQTT level.
 * @module
 */

import type { TCPSocketListener } from 'bun';
import type { MqttAdapterDeps } from '../adapters/mqtt/deps.ts';
import { MqttConnection } from '../adapters/mqtt/connection.ts';
import { ListenError } from './http-server.ts';
import { SocketStream } from './socket-stream.ts';

export function listenMqtt(options: {
  hostname: string;
  port: number;
  tls?: { cert: string; key: string };
  /** The adapter's deps once the hub is ready; connections before that are closed at once. */
  deps: () => MqttAdapterDeps | undefined;
  /** The environment variable that set the port, for the error message. */
  portVariable: string;
}): TCPSocketListener<SocketStream> {
  const transport = options.tls ? 'mqtts' : 'mqtt';
  try {
    return Bun.listen<SocketStream>({
      hostname: options.hostname,
      port: options.port,
      tls: options.tls && { ...options.tls, requestCert: true, rejectUnauthorized: false },
      socket: {
        open(socket) {
          const deps = options.deps();
          if (!deps) return void socket.end();
          const stream = new SocketStream(socket as never, transport);
          stream.connection = new MqttConnection(stream, deps);
          socket.data = stream;
        },
        data(socket, chunk) {
          socket.data?.connection?.receive(chunk);
        },
        drain(socket) {
          socket.data?.drain();
        },
        close(socket) {
          socket.data?.connection?.transportClosed();
        },
        error(socket) {
          socket.data?.connection?.transportClosed();
        },
      },
    });
  } catch (error) {
    throw new ListenError(`${options.portVariable}=${options.port} cannot be bound on ${options.hostname}: ${(error as Error).message}`);
  }
}
