/**
 * SUBSCRIBE / UNSUBSCRIBE: only IoT Hub's filters are granted (C2D, module inputs, methods, twin
 * responses, desired patches); anything else, `#` included, gets 0x80. The SUBACK is written
 * before a subscription takes effect, so nothing is published ahead of it.
 * @module
 */

import type { ISubscribePacket, IUnsubscribePacket } from 'mqtt-packet';
import type { MqttConnection } from '../connection.ts';
import { grantedQos, parseSubscription, type Subscription } from '../topics.ts';

const SUBACK_FAILURE = 0x80;

/** Turns a granted subscription into the session behaviour it stands for. */
export function enableSubscription(connection: MqttConnection, subscription: Subscription): void {
  const session = connection.session!;
  if (subscription === 'c2d') session.enableC2d();
  else if (subscription === 'methods') session.enableMethods();
  else if (subscription === 'desired') session.enableDesired();
}

function disableSubscription(connection: MqttConnection, subscription: Subscription): void {
  const session = connection.session!;
  if (subscription === 'c2d') session.disableC2d();
  else if (subscription === 'methods') session.disableMethods();
  else if (subscription === 'desired') session.disableDesired();
}

export async function handleSubscribe(connection: MqttConnection, packet: ISubscribePacket): Promise<void> {
  const { deviceId, moduleId } = connection.session!.identity;
  const granted: Subscription[] = [];
  const codes = packet.subscriptions.map(({ topic, qos }) => {
    const subscription = parseSubscription(topic, deviceId, moduleId);
    if (!subscription) {
      connection.logger.warn('mqtt_subscription_refused', { topic });
      return SUBACK_FAILURE;
    }
    granted.push(subscription);
    return Math.min(qos, grantedQos(subscription));
  });
  connection.write({ cmd: 'suback', messageId: packet.messageId, granted: codes });
  for (const subscription of granted) {
    connection.subscriptions.add(subscription);
    enableSubscription(connection, subscription);
  }
}

export async function handleUnsubscribe(connection: MqttConnection, packet: IUnsubscribePacket): Promise<void> {
  const { deviceId, moduleId } = connection.session!.identity;
  for (const topic of packet.unsubscriptions) {
    const subscription = parseSubscription(topic, deviceId, moduleId);
    if (subscription && connection.subscriptions.delete(subscription)) disableSubscription(connection, subscription);
  }
  // The DPS client waits for UNSUBACK before it reports a result (digest §4.6).
  // mqtt-packet's type lists MQTT 5's `granted` on UNSUBACK; the 3.1.1 encoder ignores it.
  connection.write({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted: [] });
}
