/**
 * The hub's configuration: the ONLY reader of environment variables and flags. Declares every
 * setting once (name, env variable, flag, default, description) and returns a frozen `HubConfig`.
 * Precedence, lowest first: defaults, `HUB_*`/`DATABASE_URL` environment, command-line flags.
 * The names are a public contract (DESIGN.md §2): add to them, never rename them.
 * @module
 */

import { isIP } from 'node:net';
import { resolve } from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface HubConfig {
  hostName: string;
  dataDir: string;
  databaseUrl: string | undefined;
  bindAddress: string;
  httpsPort: number;
  /** False when httpsPort is the default 443, which may fall back to 8443 without privilege. */
  isHttpsPortExplicit: boolean;
  httpPort: number;
  mqttsPort: number;
  /** Plain MQTT without TLS; off (undefined) unless set. */
  mqttPort: number | undefined;
  amqpsPort: number;
  /** Plain AMQP for Event Hubs clients in `UseDevelopmentEmulator=true` mode; off unless set. */
  amqpPort: number | undefined;
  adminPassword: string | undefined;
  logLevel: LogLevel;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

interface Setting<K extends keyof HubConfig> {
  key: K;
  env: string;
  flag: string;
  defaultText: string;
  description: string;
  isSecret?: boolean;
  parse(text: string, name: string): HubConfig[K];
}

function port(text: string, name: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65535) throw new ConfigError(`${name} must be a port number from 0 to 65535, got '${text}'`);
  return value;
}

function nonEmpty(text: string, name: string): string {
  if (text.trim() === '') throw new ConfigError(`${name} must not be empty`);
  return text.trim();
}

function hostName(text: string, name: string): string {
  const value = nonEmpty(text, name);
  if (!isIP(value) && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(value)) {
    throw new ConfigError(`${name} must be a DNS name or an IP address, got '${value}'`);
  }
  return value;
}

function databaseUrl(text: string, name: string): string | undefined {
  if (text === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(text)) throw new ConfigError(`${name} must be a postgres:// URL`);
  return text;
}

const setting = <K extends keyof HubConfig>(s: Setting<K>) => s;

/** Every setting, in the order the reference documentation lists them. */
export const SETTINGS = [
  setting({
    key: 'hostName',
    env: 'HUB_HOSTNAME',
    flag: '--hostname',
    defaultText: 'localhost',
    description: 'The HostName devices and services use; put in the TLS certificate',
    parse: hostName,
  }),
  setting({
    key: 'dataDir',
    env: 'HUB_DATA_DIR',
    flag: '--data-dir',
    defaultText: './data',
    description: 'PGlite database, generated CA and server certificate, uploaded files, `hub.json`',
    parse: (text, name) => resolve(nonEmpty(text, name)),
  }),
  setting({
    key: 'databaseUrl',
    env: 'DATABASE_URL',
    flag: '--database-url',
    defaultText: 'unset',
    description: '`postgres://…` switches storage from embedded PGlite to PostgreSQL',
    isSecret: true,
    parse: databaseUrl,
  }),
  setting({
    key: 'bindAddress',
    env: 'HUB_BIND_ADDRESS',
    flag: '--bind-address',
    defaultText: '0.0.0.0',
    description: 'Address of the TLS listeners',
    parse: (text, name) => {
      const value = nonEmpty(text, name);
      if (!isIP(value)) throw new ConfigError(`${name} must be an IP address, got '${value}'`);
      return value;
    },
  }),
  setting({
    key: 'httpsPort',
    env: 'HUB_HTTPS_PORT',
    flag: '--https-port',
    defaultText: '443',
    description: 'Service REST API, console, health; falls back to 8443 when 443 cannot be bound and the port was not set',
    parse: port,
  }),
  setting({
    key: 'httpPort',
    env: 'HUB_HTTP_PORT',
    flag: '--http-port',
    defaultText: '8080',
    description: 'Plain HTTP on 127.0.0.1 only: console and REST for local tools',
    parse: port,
  }),
  setting({
    key: 'mqttsPort',
    env: 'HUB_MQTTS_PORT',
    flag: '--mqtts-port',
    defaultText: '8883',
    description: 'MQTT 3.1.1 over TLS for devices',
    parse: port,
  }),
  setting({
    key: 'mqttPort',
    env: 'HUB_MQTT_PORT',
    flag: '--mqtt-port',
    defaultText: 'off',
    description: 'Plain MQTT without TLS for LAN devices; off unless set (1883 is often taken by another broker)',
    parse: (text, name) => (text === '' || text === 'off' ? undefined : port(text, name)),
  }),
  setting({
    key: 'amqpsPort',
    env: 'HUB_AMQPS_PORT',
    flag: '--amqps-port',
    defaultText: '5671',
    description: 'AMQP 1.0 over TLS: devices, service clients, the Event Hub-compatible endpoint',
    parse: port,
  }),
  setting({
    key: 'amqpPort',
    env: 'HUB_AMQP_PORT',
    flag: '--amqp-port',
    defaultText: 'off',
    description: 'Plain AMQP for Event Hubs clients with UseDevelopmentEmulator=true; off unless set (5672 is often taken by RabbitMQ)',
    parse: (text, name) => (text === '' || text === 'off' ? undefined : port(text, name)),
  }),
  setting({
    key: 'adminPassword',
    env: 'HUB_ADMIN_PASSWORD',
    flag: '--admin-password',
    defaultText: 'generated',
    description: 'Password of the first console operator `admin`; a generated one is printed once',
    isSecret: true,
    parse: (text, name) => nonEmpty(text, name),
  }),
  setting({
    key: 'logLevel',
    env: 'HUB_LOG_LEVEL',
    flag: '--log-level',
    defaultText: 'info',
    description: 'Least severe log level written: debug, info, warn or error',
    parse: (text, name) => {
      if (!LOG_LEVELS.includes(text as LogLevel)) throw new ConfigError(`${name} must be one of ${LOG_LEVELS.join(', ')}`);
      return text as LogLevel;
    },
  }),
] as const;

const DEFAULTS: HubConfig = {
  hostName: 'localhost',
  dataDir: resolve('./data'),
  databaseUrl: undefined,
  bindAddress: '0.0.0.0',
  httpsPort: 443,
  isHttpsPortExplicit: false,
  httpPort: 8080,
  mqttsPort: 8883,
  mqttPort: undefined,
  amqpsPort: 5671,
  amqpPort: undefined,
  adminPassword: undefined,
  logLevel: 'info',
};

/** Flags that are commands rather than settings. */
export interface ConfigCommands {
  printConfig: boolean;
  help: boolean;
}

/**
 * Reads the configuration from `env` and `argv` (flags as `--name value` or `--name=value`).
 * Throws ConfigError naming the variable or flag at fault.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = process.argv.slice(2),
): { config: HubConfig; commands: ConfigCommands } {
  const values: Record<string, unknown> = { ...DEFAULTS };
  for (const s of SETTINGS) {
    const text = env[s.env];
    if (text !== undefined) values[s.key] = s.parse(text, s.env);
  }
  const commands: ConfigCommands = { printConfig: false, help: false };
  const flagValues = parseFlags(argv, commands);
  for (const s of SETTINGS) {
    const text = flagValues.get(s.flag);
    if (text !== undefined) values[s.key] = s.parse(text, s.flag);
  }
  values.isHttpsPortExplicit = env.HUB_HTTPS_PORT !== undefined || flagValues.has('--https-port');
  return { config: Object.freeze(values as unknown as HubConfig), commands };
}

function parseFlags(argv: readonly string[], commands: ConfigCommands): Map<string, string> {
  const known = new Set<string>(SETTINGS.map((s) => s.flag));
  const result = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--print-config') commands.printConfig = true;
    else if (arg === '--help' || arg === '-h') commands.help = true;
    else {
      const eq = arg.indexOf('=');
      const flag = eq < 0 ? arg : arg.slice(0, eq);
      if (!known.has(flag)) throw new ConfigError(`Unknown option '${flag}' (see --help)`);
      const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new ConfigError(`Option '${flag}' needs a value`);
      result.set(flag, value);
    }
  }
  return result;
}

/** The effective configuration with secrets redacted, for `--print-config`. */
export function describeConfig(config: HubConfig): Record<string, unknown> {
  const described: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const value = config[s.key];
    described[s.env] = s.isSecret && value !== undefined ? '<redacted>' : (value ?? null);
  }
  return described;
}

/** The configuration reference as a Markdown table (the README's table is generated from this). */
export function configReference(): string {
  const rows = SETTINGS.map((s) => `| \`${s.env}\` | \`${s.flag}\` | ${s.defaultText.includes(' ') || ['unset', 'generated', 'off'].includes(s.defaultText) ? s.defaultText : `\`${s.defaultText}\``} | ${s.description} |`);
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

export function usage(): string {
  return [
    'Usage: bun apps/hub/src/main.ts [options]',
    '',
    'Options (each also settable by its environment variable):',
    ...SETTINGS.map((s) => `  ${(s.flag + ' <value>').padEnd(28)} ${s.env.padEnd(20)} ${s.description} (default: ${s.defaultText})`),
    '  --print-config               print the effective configuration (secrets redacted) and exit',
    '  --help                       show this help',
  ].join('\n');
}
