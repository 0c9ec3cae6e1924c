/**
 * The MQTT face of a device session: turns what the session pushes (C2D, desired patches, method
 * requests, close) into PUBLISH packets on IoT Hub's topics.
 * @module
 */

import type { DeviceSink } from '@tributary/core';
import type { MqttConnection } from './connection.ts';
import { formatPropertyBag } from './property-bag.ts';
import { c2dTopic, desiredPatchTopic, methodRequestTopic } from './topics.ts';

export function createMqttSink(connection: MqttConnection): DeviceSink {
  return {
    deliverC2d(message) {
      const messageId = connection.allocatePacketId();
      connection.unacknowledged.set(messageId, message.lockToken);
      const deviceId = connection.session?.identity.deviceId ?? '';
      connection.write({
        cmd: 'publish',
        qos: 1,
        dup: message.deliveryCount > 1,
        retain: false,
        messageId,
        topic: c2dTopic(deviceId, formatPropertyBag(message.systemProperties, message.applicationProperties)),
        payload: Buffer.from(message.body),
      });
    },
    desiredPatch(patch) {
      const version = typeof patch.$version === 'number' ? patch.$version : 0;
      connection.write({
        cmd: 'publish',
        qos: 0,
        dup: false,
        retain: false,
        topic: desiredPatchTopic(version),
        payload: Buffer.from(JSON.stringify(patch)),
      });
    },
    invokeMethod(request) {
      connection.write({
        cmd: 'publish',
        qos: 0,
        dup: false,
        retain: false,
        topic: methodRequestTopic(request.methodName, request.requestId),
        // Never empty: the SDK JSON-parses any non-empty payload and crashes on a zero-length one.
        payload: Buffer.from(JSON.stringify(request.payload ?? null)),
      });
    },
    close(reason) {
      connection.close('closed_by_hub', { reason: reason.code, detail: reason.message });
    },
  };
}
