/**
 * What the bench's AMQP clients share: a TLS connection to the hub's AMQPS port, and CBS
 * put-token (digest §5.2), one request on `$cbs` resolved when the hub answers `status-code` 200.
 * @module
 */

import rhea from 'rhea';

/** A connection to `localhost:<port>` trusting `ca`; it does not reconnect. */
export function connectAmqp(port: number, ca: string): rhea.Connection {
  const container = rhea.create_container();
  // The hub closes connections when the scenario stops it; that is expected, not a failure.
  container.on('error', () => {});
  return container.connect({ host: 'localhost', port, transport: 'tls', ca, servername: 'localhost', reconnect: false } as never);
}

export function putToken(connection: rhea.Connection, audience: string, token: string): Promise<void> {
  const replies = connection.open_receiver({ source: { address: '$cbs' } });
  const requests = connection.open_sender({ target: { address: '$cbs' } });
  return new Promise<void>((resolve, reject) => {
    replies.once('message', (context) => {
      const status = context.message?.application_properties?.['status-code'];
      if (status === 200) resolve();
      else reject(new Error(`put-token for ${audience} refused with ${status}`));
    });
    requests.once('sendable', () =>
      requests.send({
        message_id: `put-token:${audience}`,
        reply_to: '$cbs',
        application_properties: { operation: 'put-token', type: 'servicebus.windows.net:sastoken', name: audience },
        body: token,
      }),
    );
  });
}
