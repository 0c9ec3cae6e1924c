/**
 * PUBACK from the device for a cloud-to-device message: on MQTT that completes the message
 * (the SDK's complete() is a local no-op; MQTT cannot reject or abandon, digest §4.3).
 * @module
 */

import type { IPubackPacket } from 'mqtt-packet';
import { isHubError } from '@tributary/core';
import type { MqttConnection } from '../connection.ts';

export async function handlePuback(connection: MqttConnection, packet: IPubackPacket): Promise<void> {
  const messageId = packet.messageId ?? -1;
  const lockToken = connection.unacknowledged.get(messageId);
  if (lockToken === undefined) return;
  connection.unacknowledged.delete(messageId);
  try {
    await connection.session!.settleC2d(lockToken, 'complete');
  } catch (error) {
    // A lock that expired before the PUBACK: the message is redelivered, as IoT Hub does.
    if (!isHubError(error)) throw error;
    connection.logger.warn('mqtt_c2d_complete_failed', { code: error.code, reason: error.message });
  }
}
