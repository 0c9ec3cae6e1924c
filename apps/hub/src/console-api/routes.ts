/**
 * The console's own API under `/console/api` (the rest of what the console does is the service
 * REST API, authorised by the same session cookie):
 * - `POST /login`, `POST /logout`, `GET /session`: sessions (login rate-limited per username and address);
 * - `GET|POST /operators`, `DELETE /operators/{username}`, `PUT /operators/{username}/password`;
 * - `GET /overview`, `GET /throughput?seconds=`, `GET /ca.pem`: the hub at a glance;
 * - `GET /devices?search=&status=&connectionState=&sort=&order=&offset=&limit=`: the device list.
 * Contract: /tmp/console/contract.md at the time of writing, now the README's console section.
 * @module
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import {
  argumentInvalid,
  DEVICE_SORT_FIELDS,
  type DeviceSearch,
  type DeviceSortField,
  type IdentityRegistry,
  type Logger,
  unauthorizedAccess,
} from '@tributary/core';
import type { HubInfo } from '../hub-info.ts';
import type { ClientConnectionEnv } from '../listeners/client-connection.ts';
import type { ServiceAuthenticator } from '../service-api/auth.ts';
import { readJsonBody } from '../service-api/body.ts';
import { createErrorHandler } from '../service-api/errors.ts';
import { deviceJson } from '../service-api/representation/device-json.ts';
import { allowOnly, jsonResponse } from '../service-api/respond.ts';
import type { ConsoleSessions, ValidSession } from './console-sessions.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { OperatorAccounts } from './operator-accounts.ts';
import { clearedSessionCookie, sessionCookie, sessionTokenOf } from './session-cookie.ts';
import type { TelemetryThroughput } from './telemetry-throughput.ts';

export interface ConsoleApiDeps {
  sessions: ConsoleSessions;
  operators: OperatorAccounts;
  throttle: LoginThrottle;
  authenticator: ServiceAuthenticator;
  registry: IdentityRegistry;
  throughput: TelemetryThroughput;
  hubInfo: () => HubInfo;
  caCertificatePem: () => Promise<string>;
  logger: Logger;
}

type ConsoleContext = Context<ClientConnectionEnv>;

const MAX_PAGE = 500;

function enumParam<T extends string>(c: ConsoleContext, name: string, values: readonly T[]): T | undefined {
  const value = c.req.query(name);
  if (value === undefined || value === '') return undefined;
  if (!values.includes(value as T)) throw argumentInvalid(`${name} must be one of ${values.join(', ')}`);
  return value as T;
}

function intParam(c: ConsoleContext, name: string, fallback: number, max: number): number {
  const value = c.req.query(name);
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) throw argumentInvalid(`${name} must be an integer from 0 to ${max}`);
  return Number(value);
}

export function parseDeviceSearch(c: ConsoleContext): DeviceSearch {
  const search = c.req.query('search')?.trim();
  return {
    idContains: search || undefined,
    status: enumParam(c, 'status', ['enabled', 'disabled'] as const),
    connectionState: enumParam(c, 'connectionState', ['Connected', 'Disconnected'] as const),
    sort: enumParam<DeviceSortField>(c, 'sort', DEVICE_SORT_FIELDS) ?? 'deviceId',
    order: enumParam(c, 'order', ['asc', 'desc'] as const) ?? 'asc',
    offset: intParam(c, 'offset', 0, Number.MAX_SAFE_INTEGER),
    limit: intParam(c, 'limit', 50, MAX_PAGE),
  };
}

export function consoleApiRoutes(deps: ConsoleApiDeps) {
  const { sessions, operators, throttle, authenticator } = deps;
  const isTls = (c: ConsoleContext) => c.env?.client?.isTls ?? false;

  /** The logged-in operator; 401 without a live session (a SAS caller is not an operator). */
  const operatorOf = async (c: ConsoleContext): Promise<ValidSession> => {
    const valid = await authenticator.consoleSessionOf(c.req.raw);
    if (!valid) throw unauthorizedAccess('Log in to the console first');
    return valid;
  };
  const adminOf = async (c: ConsoleContext): Promise<ValidSession> => {
    const valid = await operatorOf(c);
    if (valid.operator.role !== 'admin') throw unauthorizedAccess(`Operator '${valid.operator.username}' is a viewer and cannot change anything`);
    return valid;
  };
  const sessionJson = ({ operator, session }: ValidSession) => ({ username: operator.username, role: operator.role, expiresAt: session.expiresAt });

  const app = new Hono<ClientConnectionEnv>({ strict: false });
  app.onError(createErrorHandler(deps.logger));

  app.post('/login', async (c) => {
    const body = (await readJsonBody(c, { maxBytes: 4096 })) as { username?: unknown; password?: unknown } | null;
    const { username, password } = body ?? {};
    if (typeof username !== 'string' || typeof password !== 'string') throw argumentInvalid('username and password must be strings');
    const throttleKey = `${username.toLowerCase()}|${c.env?.client?.remoteAddress ?? ''}`;
    throttle.check(throttleKey);
    let opened;
    try {
      opened = await sessions.logIn(username, password);
    } catch (error) {
      throttle.failed(throttleKey);
      deps.logger.warn('console_login_failed', { username, remoteAddress: c.env?.client?.remoteAddress });
      throw error;
    }
    throttle.succeeded(throttleKey);
    deps.logger.info('console_login', { username });
    c.header('set-cookie', sessionCookie(opened.token, opened.session.expiresAt, isTls(c)));
    return jsonResponse(c, sessionJson(opened));
  });
  app.all('/login', allowOnly('POST'));

  app.post('/logout', async (c) => {
    const token = sessionTokenOf(c.req.header('cookie'));
    if (token) await sessions.logOut(token);
    c.header('set-cookie', clearedSessionCookie(isTls(c)));
    return c.body(null, 204);
  });
  app.all('/logout', allowOnly('POST'));

  app.get('/session', async (c) => jsonResponse(c, sessionJson(await operatorOf(c))));
  app.all('/session', allowOnly('GET'));

  app.get('/operators', async (c) => {
    await operatorOf(c);
    return jsonResponse(c, { value: await operators.list() });
  });
  app.post('/operators', async (c) => {
    await adminOf(c);
    return jsonResponse(c, await operators.add((await readJsonBody(c, { maxBytes: 4096 })) as object), { status: 201 });
  });
  app.all('/operators', allowOnly('GET', 'POST'));
  app.delete('/operators/:username', async (c) => {
    const { operator } = await adminOf(c);
    await operators.remove(c.req.param('username'), operator);
    return c.body(null, 204);
  });
  app.all('/operators/:username', allowOnly('DELETE'));
  app.put('/operators/:username/password', async (c) => {
    const { operator, session } = await operatorOf(c);
    const body = (await readJsonBody(c, { maxBytes: 4096 })) as { password?: unknown } | null;
    await operators.changePassword(c.req.param('username'), body?.password, { operator, sessionId: session.id });
    return c.body(null, 204);
  });
  app.all('/operators/:username/password', allowOnly('PUT'));

  app.get('/overview', async (c) => {
    const { operator } = await operatorOf(c);
    const info = deps.hubInfo();
    const [statistics, service] = await Promise.all([deps.registry.statistics(), deps.registry.serviceStatistics()]);
    return jsonResponse(c, {
      hostName: info.hostName,
      version: info.version,
      database: info.database,
      ports: info.ports,
      connectionStrings:
        operator.role === 'admin'
          ? { service: info.connectionStrings.iothubowner, eventHubCompatible: info.eventHubCompatible.connectionString }
          : null,
      counts: {
        devices: statistics.totalDeviceCount,
        connected: service.connectedDeviceCount,
        messagesToday: deps.throughput.messagesToday,
      },
    });
  });
  app.all('/overview', allowOnly('GET'));

  app.get('/throughput', async (c) => {
    await operatorOf(c);
    return jsonResponse(c, { points: deps.throughput.perSecond(intParam(c, 'seconds', 120, 299)) });
  });
  app.all('/throughput', allowOnly('GET'));

  app.get('/ca.pem', async (c) => {
    await operatorOf(c);
    return c.body(await deps.caCertificatePem(), 200, {
      'content-type': 'application/x-pem-file',
      'content-disposition': 'attachment; filename="tributary-ca.pem"',
    });
  });
  app.all('/ca.pem', allowOnly('GET'));

  app.get('/devices', async (c) => {
    await operatorOf(c);
    const found = await deps.registry.searchDevices(parseDeviceSearch(c));
    return jsonResponse(c, { total: found.total, value: found.devices.map(deviceJson) });
  });
  app.all('/devices', allowOnly('GET'));

  return app;
}

