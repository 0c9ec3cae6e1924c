/**
 * The MQTT face of a device session: turns what the session pushes (C2D, desired patches, method
 * requests, close) into PUBLISH packets on IoT Hub's topics.
 * @module
 */

import type { C2dDelivery, DeviceSink, JsonObject, MethodRequest } from '@tributary/core';
import type { MqttConnection } from './connection.ts';
import { formatPropertyBag } from './property-bag.ts';
import { c2dTopic, desiredPatchTopic, methodRequestTopic } from './topics.ts';

/** A class, so that each connection's sink is one small object rather than four closures and their scope. */
export class MqttSink implements DeviceSink {
  readonly #connection: MqttConnection;

  constructor(connection: MqttConnection) {
    this.#connection = connection;
  }

  deliverC2d(message: C2dDelivery): void {
    const connection = this.#connection;
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
  }

  desiredPatch(patch: JsonObject): void {
    const version = typeof patch.$version === 'number' ? patch.$version : 0;
    this.#connection.write({
      cmd: 'publish',
      qos: 0,
      dup: false,
      retain: false,
      topic: desiredPatchTopic(version),
      payload: Buffer.from(JSON.stringify(patch)),
    });
  }

  invokeMethod(request: MethodRequest): void {
    this.#connection.write({
      cmd: 'publish',
      qos: 0,
      dup: false,
      retain: false,
      topic: methodRequestTopic(request.methodName, request.requestId),
      // Never empty: the SDK JSON-parses any non-empty payload and crashes on a zero-length one.
      payload: Buffer.from(JSON.stringify(request.payload ?? null)),
    });
  }

  close(reason: Parameters<DeviceSink['close']>[0]): void {
    this.#connection.close('closed_by_hub', { reason: reason.code, detail: reason.message });
  }
}
