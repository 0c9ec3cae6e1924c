/**
 * CONNECT: the client id names the identity (`deviceId` or `deviceId/moduleId`), the password is
 * a SAS token, or without one the TLS client certificate authenticates (digest §3, §4.1).
 * Failures answer CONNACK 5 (after the TLS handshake, so the SDK raises UnauthorizedError) and
 * close; success opens the device session, restores a persistent session's subscriptions and
 * answers CONNACK 0.
 * @module
 */

import type { IConnectPacket } from 'mqtt-packet';
import { type DeviceCredentials, deviceUnauthorized, isHubError } from '@tributary/core';
import type { MqttConnection } from '../connection.ts';
import { CONNACK_ACCEPTED, CONNACK_UNACCEPTABLE_PROTOCOL, connackCodeFor } from '../errors.ts';
import { MqttSink } from '../sink.ts';
import { enableSubscription } from './subscribe.ts';

function credentialsOf(connection: MqttConnection, packet: IConnectPacket): DeviceCredentials {
  const [deviceId = '', moduleId, ...rest] = packet.clientId.split('/');
  if (deviceId === '' || rest.length > 0 || moduleId === '') {
    throw deviceUnauthorized(`The client id '${packet.clientId}' is not deviceId or deviceId/moduleId`);
  }
  const target = moduleId === undefined ? { deviceId } : { deviceId, moduleId };
  if (packet.password !== undefined && packet.password.length > 0) {
    return { kind: 'sas', ...target, token: packet.password.toString('utf8') };
  }
  if (connection.stream.peerCertificateChain.length > 0) {
    return { kind: 'x509', ...target, certificateChain: connection.stream.peerCertificateChain };
  }
  throw deviceUnauthorized('The CONNECT carries neither a SAS token password nor a client certificate');
}

export async function handleConnect(connection: MqttConnection, packet: IConnectPacket): Promise<void> {
  // IoT Hub speaks MQTT 3.1.1 only (protocol level 4).
  if (packet.protocolVersion !== 4) {
    connection.write({ cmd: 'connack', returnCode: CONNACK_UNACCEPTABLE_PROTOCOL, sessionPresent: false });
    return connection.close('unacceptable_protocol', { protocolVersion: packet.protocolVersion });
  }
  let identity;
  try {
    identity = await connection.deps.authenticate(credentialsOf(connection, packet));
  } catch (error) {
    if (!isHubError(error)) throw error;
    connection.write({ cmd: 'connack', returnCode: connackCodeFor(error), sessionPresent: false });
    return connection.close('connect_refused', { clientId: packet.clientId, code: error.code, reason: error.message });
  }
  if (connection.isClosed) return;

  connection.clientId = packet.clientId;
  const resumed = connection.deps.persistentSessions.resume(packet.clientId, packet.clean ?? true);
  connection.subscriptions = resumed.subscriptions;
  const session = await connection.deps.sessions.open(identity, new MqttSink(connection));
  if (connection.isClosed) {
    await session.close();
    return;
  }
  connection.session = session;
  connection.logger = connection.logger.child({ deviceId: identity.deviceId, moduleId: identity.moduleId });
  connection.write({ cmd: 'connack', returnCode: CONNACK_ACCEPTED, sessionPresent: resumed.isPresent });
  connection.startKeepalive(packet.keepalive ?? 0);
  connection.logger.info('mqtt_connected', { isSessionPresent: resumed.isPresent, keepaliveSeconds: packet.keepalive });
  for (const subscription of connection.subscriptions) enableSubscription(connection, subscription);
}
