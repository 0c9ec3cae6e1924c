import { describe, expect, test } from 'bun:test';
import { ConfigError, configReference, describeConfig, loadConfig } from './config.ts';

describe('loadConfig', () => {
  test('defaults apply when nothing is set', () => {
    const { config } = loadConfig({}, []);
    expect(config).toMatchObject({ hostName: 'localhost', httpsPort: 443, isHttpsPortExplicit: false, httpPort: 8080, logLevel: 'info' });
    expect(config.dataDir).toEndWith('/data');
    expect(config.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('environment variables override defaults and flags override both', () => {
    const env = { HUB_HTTPS_PORT: '9443', HUB_HOSTNAME: 'hub.example.test', HUB_LOG_LEVEL: 'warn' };
    const { config } = loadConfig(env, ['--https-port', '10443', '--log-level=debug']);
    expect(config).toMatchObject({ hostName: 'hub.example.test', httpsPort: 10443, isHttpsPortExplicit: true, logLevel: 'debug' });
  });

  test('an HTTPS port set only by environment still counts as explicit', () => {
    expect(loadConfig({ HUB_HTTPS_PORT: '443' }, []).config.isHttpsPortExplicit).toBe(true);
  });

  test.each([
    [{ HUB_HTTPS_PORT: '70000' }, /HUB_HTTPS_PORT must be a port number/],
    [{ HUB_HTTP_PORT: '-1' }, /HUB_HTTP_PORT must be a port number/],
    [{ HUB_HOSTNAME: 'bad host' }, /HUB_HOSTNAME must be a DNS name or an IP address/],
    [{ HUB_BIND_ADDRESS: 'localhost' }, /HUB_BIND_ADDRESS must be an IP address/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ HUB_LOG_LEVEL: 'loud' }, /HUB_LOG_LEVEL must be one of debug, info, warn, error/],
  ])('an invalid value %o fails naming the variable', (env, message) => {
    expect(() => loadConfig(env, [])).toThrow(message);
  });

  test('unknown flags and flags without a value are refused', () => {
    expect(() => loadConfig({}, ['--colour'])).toThrow(ConfigError);
    expect(() => loadConfig({}, ['--https-port'])).toThrow(/needs a value/);
  });

  test('--print-config and --help are commands, not settings', () => {
    expect(loadConfig({}, ['--print-config']).commands).toEqual({ printConfig: true, help: false });
    expect(loadConfig({}, ['-h']).commands.help).toBe(true);
  });

  test('describeConfig redacts secrets', () => {
    const { config } = loadConfig({ DATABASE_URL: 'postgres://u:pw@db/x', HUB_ADMIN_PASSWORD: 'hunter2' }, []);
    const described = JSON.stringify(describeConfig(config));
    expect(described).not.toContain('pw@');
    expect(described).not.toContain('hunter2');
    expect(describeConfig(config).DATABASE_URL).toBe('<redacted>');
    expect(describeConfig(config).HUB_HTTPS_PORT).toBe(443);
  });
});

test('the README configuration table is the one generated from the settings', async () => {
  const readme = await Bun.file(new URL('../../../README.md', import.meta.url)).text();
  const table = readme.split('<!-- config-reference:start -->')[1]?.split('<!-- config-reference:end -->')[0]?.trim();
  expect(table).toBe(configReference());
});
