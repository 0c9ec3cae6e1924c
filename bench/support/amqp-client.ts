/**
 * CBS put-token (digest §5.2) for bench AMQP clients: one request on `$cbs`, resolved when the
 * hub answers `status-code` 200.
 * @module
 */

import type rhea from 'rhea';

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
