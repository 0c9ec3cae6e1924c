/**
 * What the hub tells the world once every listener is up: `<dataDir>/hub.json` (mode 0600, for
 * tests and scripts, which wait for it instead of sleeping) and the startup banner.
 * @module
 */

import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { buildEventHubConnectionString, buildServiceConnectionString, type SharedAccessPolicy } from '@tributary/core';

export interface HubInfo {
  hostName: string;
  ports: { https: number; http: number; mqtts: number; mqtt?: number; amqps: number; amqp?: number };
  caCertPath: string;
  /** One service connection string per shared access policy, by policy name. */
  connectionStrings: Record<string, string>;
  /** The built-in endpoint for @azure/event-hubs clients (iothubowner's key, as Azure does). */
  eventHubCompatible: { name: string; endpoint: string; connectionString: string; developmentEmulatorConnectionString?: string };
  console: { url: string; localUrl: string };
  database: 'pglite' | 'postgres';
  version: string;
  pid: number;
}

export const HUB_INFO_FILE = 'hub.json';

/** The hub's name (its Event Hub-compatible name): the first label of HostName, as in Azure. */
export function hubNameOf(hostName: string): string {
  return isIP(hostName) ? 'tributary' : hostName.split('.')[0]!;
}

export function createHubInfo(input: {
  hostName: string;
  ports: HubInfo['ports'];
  caCertPath: string;
  policies: SharedAccessPolicy[];
  database: 'pglite' | 'postgres';
  version: string;
}): HubInfo {
  const httpsHost = input.ports.https === 443 ? input.hostName : `${input.hostName}:${input.ports.https}`;
  return {
    hostName: input.hostName,
    ports: input.ports,
    caCertPath: input.caCertPath,
    connectionStrings: Object.fromEntries(
      input.policies.map((policy) => [
        policy.keyName,
        buildServiceConnectionString({
          hostName: input.hostName,
          sharedAccessKeyName: policy.keyName,
          sharedAccessKey: policy.primaryKey,
        }),
      ]),
    ),
    eventHubCompatible: eventHubCompatible(input.hostName, input.ports, input.policies),
    console: { url: `https://${httpsHost}/`, localUrl: `http://127.0.0.1:${input.ports.http}/` },
    database: input.database,
    version: input.version,
    pid: process.pid,
  };
}

function eventHubCompatible(hostName: string, ports: HubInfo['ports'], policies: SharedAccessPolicy[]): HubInfo['eventHubCompatible'] {
  const name = hubNameOf(hostName);
  const owner = policies.find((policy) => policy.keyName === 'iothubowner') ?? policies[0];
  const endpoint = `sb://${hostName}${ports.amqps === 5671 ? '' : `:${ports.amqps}`}/`;
  const key = { sharedAccessKeyName: owner?.keyName ?? '', sharedAccessKey: owner?.primaryKey ?? '', entityPath: name };
  return {
    name,
    endpoint,
    connectionString: buildEventHubConnectionString({ endpoint, ...key }),
    ...(ports.amqp === undefined
      ? {}
      : {
          developmentEmulatorConnectionString: buildEventHubConnectionString({
            endpoint: `sb://${hostName}:${ports.amqp}/`,
            ...key,
            useDevelopmentEmulator: true,
          }),
        }),
  };
}

export async function writeHubInfo(dataDir: string, info: HubInfo): Promise<void> {
  const path = join(dataDir, HUB_INFO_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export async function removeHubInfo(dataDir: string): Promise<void> {
  await rm(join(dataDir, HUB_INFO_FILE), { force: true });
}

/** The human-readable startup banner (stdout). Shows the iothubowner connection string on purpose. */
export function formatBanner(info: HubInfo, generatedAdminPassword?: string): string {
  const lines = [
    '',
    `  Tributary ${info.version} is ready  (storage: ${info.database === 'pglite' ? 'embedded PGlite' : 'PostgreSQL'})`,
    '',
    `  Console          ${info.console.url}   (local: ${info.console.localUrl})`,
    `  Service REST     https://${info.ports.https === 443 ? info.hostName : `${info.hostName}:${info.ports.https}`}/`,
    `  HTTP (local)     http://127.0.0.1:${info.ports.http}/   (also MQTT over WebSocket for local simulators)`,
    `  MQTT over TLS    mqtts://${info.hostName}:${info.ports.mqtts}   and wss://${info.hostName}/$iothub/websocket`,
    ...(info.ports.mqtt === undefined ? [] : [`  MQTT (plain)     mqtt://${info.hostName}:${info.ports.mqtt}`]),
    `  AMQP over TLS    amqps://${info.hostName}:${info.ports.amqps}   and wss://${info.hostName}/$iothub/websocket`,
    '',
    '  Event Hub-compatible endpoint (@azure/event-hubs):',
    `    ${info.eventHubCompatible.connectionString}`,
    '',
    `  CA certificate   ${info.caCertPath}`,
    '  Trust it in the Azure SDKs with:',
    `    export NODE_EXTRA_CA_CERTS=${info.caCertPath}`,
    '',
    '  iothubowner connection string:',
    `    ${info.connectionStrings.iothubowner ?? '(policy iothubowner was removed)'}`,
  ];
  if (generatedAdminPassword) {
    lines.push('', `  Console login    admin / ${generatedAdminPassword}   (shown once; set HUB_ADMIN_PASSWORD to choose it)`);
  }
  return lines.join('\n') + '\n';
}
