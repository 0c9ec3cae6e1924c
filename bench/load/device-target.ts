/**
 * Who a worker's MQTT connections are: devices of a Tributary hub (SAS tokens made from the
 * one key the runner registered every bench device with), or plain clients of Mosquitto.
 * @module
 */

import { sasRecipes } from '@tributary/core';
import type { Endpoint } from './mqtt-connection.ts';
import { connectPacket } from './mqtt-wire.ts';

export interface MqttTarget {
  endpoint: Endpoint;
  /** The hub's HostName and the devices' shared primary key; absent for Mosquitto (anonymous). */
  hub?: { hostName: string; deviceKey: string };
}

export function deviceConnectPacket(target: MqttTarget, deviceId: string, options: { clean?: boolean; keepaliveS?: number } = {}): Buffer {
  const clean = options.clean ?? false;
  const keepaliveS = options.keepaliveS ?? 180;
  if (!target.hub) return connectPacket({ clientId: deviceId, clean, keepaliveS });
  const { hostName, deviceKey } = target.hub;
  return connectPacket({
    clientId: deviceId,
    username: `${hostName}/${deviceId}/?api-version=2021-04-12`,
    password: sasRecipes.device(hostName, deviceId, deviceKey, Math.floor(Date.now() / 1000) + 3600),
    clean,
    keepaliveS,
  });
}
