/**
 * PUBLISH from the device: telemetry (acknowledged with PUBACK only after the message is
 * committed), twin GET and reported PATCH (answered on `$iothub/twin/res/…`), and method
 * responses. What IoT Hub does not allow closes the connection: QoS 2, wildcards in a topic
 * name, another identity's topic, unknown topics, malformed property bags, oversized messages.
 * @module
 */

import type { IPublishPacket } from 'mqtt-packet';
import { argumentInvalid, type HubError, isHubError, type JsonObject, type JsonValue } from '@tributary/core';
import type { MqttConnection } from '../connection.ts';
import { twinErrorResponse } from '../errors.ts';
import { parsePropertyBag } from '../property-bag.ts';
import { hasWildcard, parsePublishTopic, twinResponseTopic } from '../topics.ts';

function respondOnTwinTopic(connection: MqttConnection, status: number, requestId: string, body: string, version?: number): void {
  if (!connection.subscriptions.has('twinResponses')) {
    connection.logger.debug('mqtt_twin_response_dropped', { requestId, reason: 'not subscribed to $iothub/twin/res/#' });
    return;
  }
  connection.write({
    cmd: 'publish',
    qos: 0,
    dup: false,
    retain: false,
    topic: twinResponseTopic(status, requestId, version),
    payload: Buffer.from(body),
  });
}

function parseJsonObject(payload: Buffer): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw argumentInvalid('The reported properties patch is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw argumentInvalid('The reported properties patch must be a JSON object');
  }
  return value as JsonObject;
}

/** Method responses carry JSON; anything else reaches the caller as a string. */
function methodPayload(payload: Buffer): JsonValue {
  const text = payload.toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

async function twinOperation(
  connection: MqttConnection,
  requestId: string,
  operation: () => Promise<{ status: number; body: string; version?: number }>,
): Promise<void> {
  try {
    const { status, body, version } = await operation();
    respondOnTwinTopic(connection, status, requestId, body, version);
  } catch (error) {
    if (!isHubError(error)) throw error;
    const response = twinErrorResponse(error);
    respondOnTwinTopic(connection, response.status, requestId, response.body);
  }
}

/** [MQTT-4.3.2-2] a QoS 1 PUBLISH is acknowledged (the Node SDK uses QoS 0 here, others QoS 1). */
function acknowledge(connection: MqttConnection, packet: IPublishPacket): void {
  if (packet.qos === 1) connection.write({ cmd: 'puback', messageId: packet.messageId! });
}

export async function handlePublish(connection: MqttConnection, packet: IPublishPacket): Promise<void> {
  const session = connection.session!;
  // IoT Hub closes the connection on QoS 2 [IoT Hub MQTT support, "QoS 2 is not supported"].
  if (packet.qos === 2) return connection.close('qos2_refused', { topic: packet.topic });
  if (hasWildcard(packet.topic)) return connection.close('wildcard_publish_refused', { topic: packet.topic });
  // [MQTT-1.5.3-1] ill-formed UTF-8 and [MQTT-1.5.3-2] U+0000 close the connection. mqtt-packet
  // decodes without checking, so ill-formed bytes show up as U+FFFD, which no IoT Hub topic contains.
  if (packet.topic.includes('\uFFFD') || packet.topic.includes('\u0000')) {
    return connection.close('invalid_utf8_topic_refused');
  }
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  const target = parsePublishTopic(packet.topic);

  switch (target.kind) {
    case 'telemetry': {
      const { deviceId, moduleId } = session.identity;
      if (target.deviceId !== deviceId || target.moduleId !== moduleId) {
        return connection.close('foreign_topic_refused', { topic: packet.topic });
      }
      let committed: Promise<void>;
      try {
        const bag = parsePropertyBag(target.propertyBag);
        // Azure does not retain; it marks the message instead (digest §4.4).
        if (packet.retain) bag.applicationProperties['mqtt-retain'] = 'true';
        committed = session.sendTelemetry({ body: payload, ...bag });
      } catch (error) {
        committed = Promise.reject(error);
      }
      // Handled by the acknowledgement chain below, possibly later: never an unhandled rejection.
      committed.catch(() => {});
      const refuse = (error: unknown) => {
        if (!isHubError(error)) throw error;
        connection.close('telemetry_refused', { code: (error as HubError).code, reason: (error as HubError).message });
      };
      if (packet.qos === 1) {
        const messageId = packet.messageId!;
        connection.acknowledgements = connection.acknowledgements
          .then(() => committed)
          .then(() => connection.write({ cmd: 'puback', messageId }), refuse);
        return connection.acknowledgements;
      }
      return committed.catch(refuse);
    }
    case 'twinGet':
      await twinOperation(connection, target.requestId, async () => ({
        status: 200,
        body: JSON.stringify(await session.getTwin()),
      }));
      return acknowledge(connection, packet);
    case 'twinPatchReported':
      await twinOperation(connection, target.requestId, async () => ({
        status: 204,
        body: '',
        version: await session.patchReported(parseJsonObject(payload)),
      }));
      return acknowledge(connection, packet);
    case 'methodResponse':
      session.respondToMethod(target.requestId, target.status, methodPayload(payload));
      return acknowledge(connection, packet);
    case 'unknown':
      return connection.close('unknown_topic_refused', { topic: packet.topic });
  }
}
