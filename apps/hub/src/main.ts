#!/usr/bin/env bun
/**
 * The hub process: reads the configuration, starts the hub, prints the banner, and stops
 * gracefully on SIGINT/SIGTERM. Everything else is in hub.ts.
 * @module
 */

import { ConfigError, describeConfig, loadConfig, usage } from './config.ts';
import { startHub } from './hub.ts';
import { ListenError } from './listeners/http-server.ts';
import { createJsonLogger } from './log.ts';

async function main(): Promise<number> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tributary: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const { config, commands } = loaded;
  if (commands.help) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  if (commands.printConfig) {
    process.stdout.write(JSON.stringify(describeConfig(config), null, 2) + '\n');
    return 0;
  }

  const logger = createJsonLogger(config.logLevel);
  // A bug must end one request or connection, never the hub: log it once and keep serving.
  process.on('unhandledRejection', (error) => logger.error('unhandled_rejection', { error }));
  process.on('uncaughtException', (error) => logger.error('uncaught_exception', { error }));
  // Signal handlers go in before the hub starts: hub.json appears during startup, and a
  // supervisor that sends SIGTERM as soon as it sees the file must get a graceful stop, not
  // the default "killed by signal".
  let stopRequested: (signal: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => (stopRequested = resolve));
  process.once('SIGINT', () => stopRequested('SIGINT'));
  process.once('SIGTERM', () => stopRequested('SIGTERM'));

  let hub: Awaited<ReturnType<typeof startHub>>;
  try {
    hub = await startHub(config, logger);
  } catch (error) {
    if (error instanceof ListenError) {
      process.stderr.write(`tributary: ${error.message}\n`);
      return 1;
    }
    logger.error('hub_start_failed', { error });
    return 1;
  }
  process.stdout.write(hub.banner);

  const signal = await stopSignal;
  logger.info('shutdown_requested', { signal });
  try {
    await hub.stop();
    return 0;
  } catch (error) {
    logger.error('shutdown_failed', { error });
    return 1;
  }
}

process.exitCode = await main();
process.exit();
