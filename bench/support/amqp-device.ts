/**
 * A bench device's telemetry sender over AMQP/TLS (raw rhea, in the runner process): CBS
 * put-token with the device's SAS token, then the events link. Ported from the first bench.
 * @module
 */

import { sasRecipes } from '@tributary/core';
import rhea from 'rhea';
import { connectAmqp, putToken } from './amqp-client.ts';
import { DEVICE_KEY, type BenchHub } from './bench-hub.ts';
import type { Histogram } from './histogram.ts';

export async function openAmqpDeviceSender(bench: BenchHub, deviceId: string, connections: rhea.Connection[]): Promise<rhea.Sender> {
  const { hub } = bench;
  const host = `localhost:${hub.info.ports.amqps}`;
  const token = sasRecipes.device(host, deviceId, DEVICE_KEY, Math.floor(Date.now() / 1000) + 3600);
  const connection = connectAmqp(hub.info.ports.amqps, bench.https.ca);
  connections.push(connection);
  await putToken(connection, encodeURIComponent(`${host}/devices/${deviceId}`), token);
  const sender = connection.open_sender({ target: { address: `/devices/${deviceId}/messages/events` } });
  await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
  return sender;
}

/**
 * Sends with at most `window` unsettled until `until()` says stop (or `maxCount` were sent),
 * then resolves when every sent message is settled; counts accepted ones.
 */
export function sendWhile(
  sender: rhea.Sender,
  body: Buffer,
  options: { window: number; until: () => boolean; maxCount?: number; histogram?: Histogram },
): Promise<{ sent: number; accepted: number; rejected: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let accepted = 0;
    let rejected = 0;
    const maxCount = options.maxCount ?? Number.POSITIVE_INFINITY;
    const sentAt = new Map<unknown, number>();
    const isDone = () => (options.until() || sent >= maxCount) && accepted + rejected >= sent;
    const next = () => {
      while (!options.until() && sent < maxCount && sent - accepted - rejected < options.window && sender.sendable()) {
        sent++;
        sentAt.set(sender.send({ body: rhea.message.data_section(body) }), performance.now());
      }
      if (isDone()) resolve({ sent, accepted, rejected });
    };
    const settle = (isAccepted: boolean) => (context: rhea.EventContext) => {
      if (isAccepted) {
        accepted++;
        options.histogram?.recordMs(performance.now() - (sentAt.get(context.delivery) ?? performance.now()));
      } else rejected++;
      sentAt.delete(context.delivery);
      next();
    };
    sender.on('accepted', settle(true));
    sender.on('rejected', settle(false));
    sender.on('sendable', next);
    const timer = setInterval(() => {
      if (isDone()) {
        clearInterval(timer);
        resolve({ sent, accepted, rejected });
      }
    }, 50);
    next();
  });
}
