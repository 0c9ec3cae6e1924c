/**
 * Starts and stops one hub: storage → bootstrap → core services → listeners → hub.json. The
 * composition root (main.ts) adds the process concerns (config, signals, exit codes).
 * @module
 */

import { HubError, IdentityRegistry, PolicyAuthenticator, systemClock, type Logger } from '@tributary/core';
import { openDb } from '@tributary/db';
import packageJson from '../package.json' with { type: 'json' };
import { bootstrapHub } from './bootstrap.ts';
import type { HubConfig } from './config.ts';
import { createConsoleAssets } from './console-assets.ts';
import { createHubInfo, formatBanner, type HubInfo, removeHubInfo, writeHubInfo } from './hub-info.ts';
import { listenHttp, listenHttps, type FetchHandler } from './listeners/http-server.ts';
import { createServiceApp } from './service-api/app.ts';
import { restErrorResponse } from './service-api/errors.ts';
import { loadOrCreateTlsMaterial } from './tls/local-ca.ts';
import { createWebSocketHandler } from './listeners/websocket.ts';

export interface RunningHub {
  info: HubInfo;
  banner: string;
  stop(): Promise<void>;
}

/**
 * Binds the listeners before anything is written, so a port that cannot be bound fails the start
 * before bootstrap creates state (such as a generated admin password nobody would ever see).
 * Until storage is open and bootstrapped, requests get 503 ServiceUnavailable.
 */
export async function startHub(config: HubConfig, logger: Logger): Promise<RunningHub> {
  const startedAtMs = Date.now();
  await removeHubInfo(config.dataDir);
  const tls = await loadOrCreateTlsMaterial(config.dataDir, [config.hostName]);

  const starting: FetchHandler = () => restErrorResponse(new HubError('ServiceUnavailable', 'The hub is starting'));
  let handle = starting;
  const fetch: FetchHandler = (request, server) => handle(request, server);
  const websocket = createWebSocketHandler();
  const https = listenHttps(
    {
      hostname: config.bindAddress,
      port: config.httpsPort,
      isPortExplicit: config.isHttpsPortExplicit,
      fetch,
      websocket,
      tls: { cert: tls.certChainPem, key: tls.keyPem },
    },
    logger,
  );
  let http: ReturnType<typeof listenHttp>;
  try {
    http = listenHttp({ port: config.httpPort, fetch, websocket });
  } catch (error) {
    await https.stop(true);
    throw error;
  }
  logger.info('listeners_started', { https: https.port, http: http.port, bindAddress: config.bindAddress });
  const stopListeners = () => Promise.all([https.stop(), http.stop()]);

  let database: Awaited<ReturnType<typeof openDb>>;
  try {
    database = await openDb({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  } catch (error) {
    await stopListeners();
    throw error;
  }
  logger.info('database_opened', { kind: database.kind });
  try {
    const { stores } = database;
    const bootstrap = await bootstrapHub(stores, { adminPassword: config.adminPassword, now: Date.now(), logger });
    const registry = new IdentityRegistry({ store: stores.registry, clock: systemClock });
    const authenticator = new PolicyAuthenticator({ policies: stores.policies, hostName: config.hostName, clock: systemClock });
    const api = createServiceApp({ registry, authenticator, logger }, { version: packageJson.version, startedAtMs });
    const consoleAssets = createConsoleAssets();
    if (!consoleAssets.isBuilt) logger.warn('console_not_built', { hint: 'run `bun run build`' });
    handle = async (request) => (await consoleAssets.respond(request)) ?? api.fetch(request);

    const info = createHubInfo({
      hostName: config.hostName,
      httpsPort: https.port!,
      httpPort: http.port!,
      caCertPath: tls.caCertPath,
      policies: await stores.policies.list(),
      database: database.kind,
      version: packageJson.version,
    });
    await writeHubInfo(config.dataDir, info);
    logger.info('hub_ready', { startupMs: Date.now() - startedAtMs });

    let stopping: Promise<void> | undefined;
    return {
      info,
      banner: formatBanner(info, bootstrap.generatedAdminPassword),
      stop() {
        stopping ??= (async () => {
          await removeHubInfo(config.dataDir);
          handle = starting;
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
