/**
 * Starts and stops one hub: listeners → storage → bootstrap → core services → adapters →
 * hub.json. The composition root (main.ts) adds the process concerns (config, signals, exit codes).
 * @module
 */

import { DEFAULT_PARTITION_COUNT, type DeviceCredentials, HubError, type Logger, systemClock } from '@tributary/core';
import { openDb } from '@tributary/db';
import packageJson from '../package.json' with { type: 'json' };
import type { MqttAdapterDeps } from './adapters/mqtt/deps.ts';
import { join } from 'node:path';
import { FILE_UPLOAD_CONTAINER } from '@tributary/core';
import { deviceFileRoutes } from './adapters/https-device/file-routes.ts';
import { httpsDeviceRoutes } from './adapters/https-device/routes.ts';
import { FilesystemBlobStore } from './blob-storage/fs-blob-store.ts';
import { IdleWheel } from './adapters/mqtt/idle-wheel.ts';
import { PersistentSessions } from './adapters/mqtt/persistent-sessions.ts';
import { bootstrapHub } from './bootstrap.ts';
import type { HubConfig } from './config.ts';
import { createConsoleAssets } from './console-assets.ts';
import { LoginThrottle } from './console-api/login-throttle.ts';
import { OperatorAccounts } from './console-api/operator-accounts.ts';
import { consoleApiRoutes } from './console-api/routes.ts';
import { createHubInfo, formatBanner, type HubInfo, hubNameOf, removeHubInfo, writeHubInfo } from './hub-info.ts';
import { AmqpServer, listenAmqp } from './adapters/amqp/server.ts';
import { type FetchHandler, listenHttp, listenHttps } from './listeners/http-server.ts';
import { isLiveEventsWebSocketRequest, upgradeLiveEvents } from './listeners/live-events-socket.ts';
import { listenMqtt } from './listeners/mqtt-listener.ts';
import { createWebSocketHandler, isIotHubWebSocketRequest, upgradeIotHubWebSocket } from './listeners/websocket.ts';
import { createServiceApp } from './service-api/app.ts';
import { restErrorResponse } from './service-api/errors.ts';
import { createHubServices, serviceApiDeps } from './services.ts';
import { loadOrCreateTlsMaterial } from './tls/local-ca.ts';

export interface RunningHub {
  info: HubInfo;
  banner: string;
  stop(): Promise<void>;
}

/**
 * Binds every listener before anything is written, so a port that cannot be bound fails the
 * start before bootstrap creates state (such as a generated admin password nobody would see).
 * Until storage is open and bootstrapped, requests get 503 and device connections are closed.
 */
export async function startHub(config: HubConfig, logger: Logger): Promise<RunningHub> {
  const startedAtMs = Date.now();
  const clock = systemClock;
  await removeHubInfo(config.dataDir);
  const tls = await loadOrCreateTlsMaterial(config.dataDir, [config.hostName]);

  const starting: FetchHandler = () => restErrorResponse(new HubError('ServiceUnavailable', 'The hub is starting'));
  let handle = starting;
  let mqttDeps: MqttAdapterDeps | undefined;
  const fetch: FetchHandler = (request, server, client) => handle(request, server, client);
  const websocket = createWebSocketHandler();
  const serverTls = { cert: tls.certChainPem, key: tls.keyPem };

  const listeners: { stop(closeActiveConnections?: boolean): unknown }[] = [];
  const stopListeners = async () => {
    await Promise.all(listeners.map((listener) => listener.stop(true)));
  };
  let ports: HubInfo['ports'];
  const amqp = new AmqpServer();
  try {
    const https = listenHttps(
      { hostname: config.bindAddress, port: config.httpsPort, isPortExplicit: config.isHttpsPortExplicit, fetch, websocket, tls: serverTls },
      logger,
    );
    listeners.push(https);
    const http = listenHttp({ port: config.httpPort, fetch, websocket });
    listeners.push(http);
    const mqtts = listenMqtt({ hostname: config.bindAddress, port: config.mqttsPort, tls: serverTls, deps: () => mqttDeps, portVariable: 'HUB_MQTTS_PORT' });
    listeners.push(mqtts);
    const mqtt =
      config.mqttPort === undefined
        ? undefined
        : listenMqtt({ hostname: config.bindAddress, port: config.mqttPort, deps: () => mqttDeps, portVariable: 'HUB_MQTT_PORT' });
    if (mqtt) listeners.push(mqtt);
    const amqps = await listenAmqp(amqp, { hostname: config.bindAddress, port: config.amqpsPort, tls: serverTls, portVariable: 'HUB_AMQPS_PORT' });
    listeners.push({ stop: () => amqps.close() });
    const plainAmqp =
      config.amqpPort === undefined
        ? undefined
        : await listenAmqp(amqp, { hostname: config.bindAddress, port: config.amqpPort, portVariable: 'HUB_AMQP_PORT' });
    if (plainAmqp) listeners.push({ stop: () => plainAmqp.close() });
    ports = {
      https: https.port,
      http: http.port,
      mqtts: mqtts.port,
      ...(mqtt ? { mqtt: mqtt.port } : {}),
      amqps: amqps.port,
      ...(plainAmqp ? { amqp: plainAmqp.port } : {}),
    };
  } catch (error) {
    await stopListeners();
    throw error;
  }
  logger.info('listeners_started', { ...ports, bindAddress: config.bindAddress });

  let database: Awaited<ReturnType<typeof openDb>>;
  try {
    database = await openDb({
      dataDir: config.dataDir,
      databaseUrl: config.databaseUrl,
      onVacuumFailed: (error) => logger.warn('database_vacuum_failed', { error }),
    });
  } catch (error) {
    await stopListeners();
    throw error;
  }
  logger.info('database_opened', { kind: database.kind });
  try {
    const { stores } = database;
    const bootstrap = await bootstrapHub(stores, { adminPassword: config.adminPassword, now: clock.now(), logger });
    const services = await createHubServices(stores, {
      hostName: config.hostName,
      clock,
      logger,
      blobs: new FilesystemBlobStore(join(config.dataDir, 'files')),
      // One telemetry commit in flight per partition on a pooled database, leaving it half its
      // connections for everything else; PGlite runs one statement at a time, so one lane.
      commitLanes: Math.max(1, Math.min(DEFAULT_PARTITION_COUNT, Math.floor(database.connections / 2))),
      identityChanges: database.identityChanges,
    });
    const authenticateDevice = (credentials: DeviceCredentials) => services.deviceAuthenticator.authenticate(credentials);
    const deviceApi = httpsDeviceRoutes({ authenticate: authenticateDevice, sessions: services.sessions, c2d: services.c2d, logger });
    deviceApi.route('/devices', deviceFileRoutes({ files: services.files, authenticate: authenticateDevice }));
    const api = createServiceApp(serviceApiDeps(services, logger), { version: packageJson.version, startedAtMs }, deviceApi);
    const info = createHubInfo({
      hostName: config.hostName,
      ports,
      caCertPath: tls.caCertPath,
      policies: await stores.policies.list(),
      database: database.kind,
      version: packageJson.version,
    });
    api.route(
      '/console/api',
      consoleApiRoutes({
        sessions: services.consoleSessions,
        operators: new OperatorAccounts({ operators: stores.operators, sessions: services.consoleSessions, clock }),
        throttle: new LoginThrottle({ clock }),
        authenticator: services.serviceAuthenticator,
        registry: services.registry,
        throughput: services.throughput,
        hubInfo: () => info,
        caCertificatePem: () => Bun.file(tls.caCertPath).text(),
        logger,
      }),
    );
    const consoleAssets = createConsoleAssets();
    if (!consoleAssets.isBuilt) logger.warn('console_not_built', { hint: 'run `bun run build`' });
    const adapterDeps: MqttAdapterDeps = {
      authenticate: (credentials) => services.deviceAuthenticator.authenticate(credentials),
      sessions: services.sessions,
      persistentSessions: new PersistentSessions(),
      idleWheel: new IdleWheel(clock),
      clock,
      logger,
    };
    mqttDeps = adapterDeps;
    amqp.ready({
      hostName: config.hostName,
      eventHubName: hubNameOf(config.hostName),
      authenticate: adapterDeps.authenticate,
      policyAuthenticator: services.policyAuthenticator,
      authorizeEventHubs: (token, audience) => services.authorizeEventHubs(token, audience),
      onFeedbackRecorded: (listener) => services.onFeedbackRecorded(listener),
      sessions: services.sessions,
      c2d: services.c2d,
      files: services.files,
      events: services.events,
      eventStore: services.eventStore,
      clock,
      logger,
    });
    handle = async (request, server, client) => {
      if (isLiveEventsWebSocketRequest(request)) {
        return upgradeLiveEvents(request, server, { pipeline: services.events, authenticator: services.serviceAuthenticator });
      }
      if (isIotHubWebSocketRequest(request)) {
        return upgradeIotHubWebSocket(request, server, client, {
          mqtt: adapterDeps,
          acceptAmqp: (socket) => amqp.acceptWebSocket(socket),
        });
      }
      // Blob URLs are never console pages, whatever a browser's Accept header says.
      if (new URL(request.url).pathname.startsWith(`/${FILE_UPLOAD_CONTAINER}/`)) return api.fetch(request, { client });
      return (await consoleAssets.respond(request)) ?? api.fetch(request, { client });
    };

    await writeHubInfo(config.dataDir, info);
    logger.info('hub_ready', { startupMs: Date.now() - startedAtMs });
    // What only startup needed (migrations, certificate checks, run-once code) is garbage now:
    // drop its compiled code and return the freed pages, about 6 MiB of idle RSS on PGlite.
    // Deprecated in Bun's types with no replacement; Bun.gc(true) frees about a third as much.
    setImmediate(() => Bun.shrink());

    let stopping: Promise<void> | undefined;
    return {
      info,
      banner: formatBanner(info, bootstrap.generatedAdminPassword),
      stop() {
        stopping ??= (async () => {
          await removeHubInfo(config.dataDir);
          handle = starting;
          mqttDeps = undefined;
          amqp.stop();
          await services.stop();
          await stopListeners();
          await database.close();
          logger.info('hub_stopped', {});
        })();
        return stopping;
      },
    };
  } catch (error) {
    await stopListeners();
    await database.close();
    throw error;
  }
}
