import { describe, expect, test } from 'bun:test';
// azure-iot-common is a devDependency of apps/hub only, so it is reached through that package's node_modules.
import { ConnectionString } from 'azure-iot-common';
import {
  buildDeviceConnectionString,
  buildEventHubConnectionString,
  buildServiceConnectionString,
  parseConnectionString,
  parseEventHubConnectionString,
  parseIotHubConnectionString,
} from './connection-string.ts';
import { expectHubError } from '../testing/hub-error-assertions.ts';

const expectArgumentInvalid = (fn: () => unknown, messagePart: string) => expectHubError(fn, 'ArgumentInvalid', messagePart);

// Base64 keys end in '=' padding, which is why each part splits on its first '=' only.
const KEY = 'dGhpcyBpcyBhIDMyIGJ5dGUgZGV2aWNlIGtleSEhISE=';
const KEY2 = 'cG9saWN5IGtleSBmb3IgaXRob2h1Ym93bmVyIHBvbGljeQ==';

describe('parseConnectionString', () => {
  test('keeps "=" inside values by splitting each part on its first "="', () => {
    const cs = parseConnectionString(`HostName=h;SharedAccessKey=${KEY2}`);
    expect(cs.get('SharedAccessKey')).toBe(KEY2);
  });

  test('matches known keys case-insensitively and stores them under the canonical spelling', () => {
    const cs = parseConnectionString(`hostname=h;DEVICEID=d1;sharedaccesskey=${KEY};X509=true;Custom=1`);
    expect([...cs.keys()]).toEqual(['HostName', 'DeviceId', 'SharedAccessKey', 'x509', 'Custom']);
  });

  test('ignores empty parts such as a trailing ";"', () => {
    expect(parseConnectionString('HostName=h;;DeviceId=d1;').size).toBe(2);
  });

  test('rejects a part without "=" without echoing it', () => {
    const secret = 'dGhpcyBpcyBhIHNlY3JldA';
    const err = expectArgumentInvalid(() => parseConnectionString(`HostName=h;${secret}`), 'without "="');
    expect(err.message).not.toContain(secret);
  });

  test('rejects a key given twice, even in different case', () => {
    expectArgumentInvalid(() => parseConnectionString('HostName=a;hostname=b'), "'HostName' more than once");
  });

  test('rejects an empty key', () => {
    expectArgumentInvalid(() => parseConnectionString('HostName=a;=b'), 'empty key');
  });
});

describe('parseIotHubConnectionString', () => {
  test('device string with a key round-trips through buildDeviceConnectionString', () => {
    const text = buildDeviceConnectionString({ hostName: 'localhost:18883', deviceId: 'dev=1', sharedAccessKey: KEY });
    expect(text).toBe(`HostName=localhost:18883;DeviceId=dev=1;SharedAccessKey=${KEY}`);
    expect(parseIotHubConnectionString(text)).toEqual({
      kind: 'device',
      hostName: 'localhost:18883',
      deviceId: 'dev=1',
      sharedAccessKey: KEY,
    });
  });

  test("a built device string parses the same way in the SDK's ConnectionString.parse", () => {
    const text = buildDeviceConnectionString({ hostName: 'localhost', deviceId: 'd1', moduleId: 'm1', sharedAccessKey: KEY });
    const sdk = ConnectionString.parse(text, ['HostName', 'DeviceId', 'ModuleId', 'SharedAccessKey']);
    expect(sdk.SharedAccessKey).toBe(KEY);
    expect(sdk.ModuleId).toBe('m1');
  });

  test('device string with a hub policy key name, gateway and SAS variants', () => {
    expect(
      parseIotHubConnectionString(`HostName=h;DeviceId=d1;SharedAccessKeyName=device;SharedAccessKey=${KEY};GatewayHostName=gw:18883`),
    ).toEqual({
      kind: 'device',
      hostName: 'h',
      deviceId: 'd1',
      sharedAccessKeyName: 'device',
      sharedAccessKey: KEY,
      gatewayHostName: 'gw:18883',
    });
    const sas = 'SharedAccessSignature sr=h%2Fdevices%2Fd1&sig=abc%3D&se=1';
    expect(parseIotHubConnectionString(`HostName=h;DeviceId=d1;SharedAccessSignature=${sas}`)).toEqual({
      kind: 'device',
      hostName: 'h',
      deviceId: 'd1',
      sharedAccessSignature: sas,
    });
  });

  test('device string with x509=true has no key', () => {
    expect(parseIotHubConnectionString('HostName=h;DeviceId=d1;x509=true')).toEqual({
      kind: 'device',
      hostName: 'h',
      deviceId: 'd1',
      x509: true,
    });
  });

  test('device string with both SharedAccessKey and x509=true is rejected', () => {
    expectArgumentInvalid(
      () => parseIotHubConnectionString(`HostName=h;DeviceId=d1;SharedAccessKey=${KEY};x509=true`),
      'only one of SharedAccessKey, x509',
    );
  });

  test('device string with both SharedAccessKey and SharedAccessSignature is rejected', () => {
    expectArgumentInvalid(
      () => parseIotHubConnectionString(`HostName=h;DeviceId=d1;SharedAccessKey=${KEY};SharedAccessSignature=x`),
      'only one of SharedAccessKey, SharedAccessSignature',
    );
  });

  test('device string with x509=false and no key is missing a credential', () => {
    expectArgumentInvalid(() => parseIotHubConnectionString('HostName=h;DeviceId=d1;x509=false'), "'SharedAccessKey'");
  });

  test('x509 with a value other than true or false is rejected', () => {
    expectArgumentInvalid(() => parseIotHubConnectionString('HostName=h;DeviceId=d1;x509=yes'), "'x509' must be true or false");
  });

  test('SharedAccessKeyName without SharedAccessKey on a device string is rejected', () => {
    expectArgumentInvalid(
      () => parseIotHubConnectionString('HostName=h;DeviceId=d1;SharedAccessKeyName=device;x509=true'),
      "'SharedAccessKeyName' without 'SharedAccessKey'",
    );
  });

  test('module string round-trips through buildDeviceConnectionString', () => {
    const text = buildDeviceConnectionString({ hostName: 'h', deviceId: 'd1', moduleId: 'm1', sharedAccessKey: KEY });
    expect(text).toBe(`HostName=h;DeviceId=d1;ModuleId=m1;SharedAccessKey=${KEY}`);
    expect(parseIotHubConnectionString(text)).toEqual({
      kind: 'module',
      hostName: 'h',
      deviceId: 'd1',
      moduleId: 'm1',
      sharedAccessKey: KEY,
    });
  });

  test('module string without a key, or with x509, is rejected', () => {
    expectArgumentInvalid(() => parseIotHubConnectionString('HostName=h;DeviceId=d1;ModuleId=m1'), "missing 'SharedAccessKey'");
    expectArgumentInvalid(
      () => parseIotHubConnectionString('HostName=h;DeviceId=d1;ModuleId=m1;x509=true'),
      "module cannot use 'x509'",
    );
  });

  test('ModuleId without DeviceId names the missing DeviceId', () => {
    expectArgumentInvalid(() => parseIotHubConnectionString(`HostName=h;ModuleId=m1;SharedAccessKey=${KEY}`), "missing 'DeviceId'");
  });

  test('service string round-trips through buildServiceConnectionString', () => {
    const text = buildServiceConnectionString({ hostName: 'localhost:25671', sharedAccessKeyName: 'iothubowner', sharedAccessKey: KEY2 });
    expect(text).toBe(`HostName=localhost:25671;SharedAccessKeyName=iothubowner;SharedAccessKey=${KEY2}`);
    expect(parseIotHubConnectionString(text)).toEqual({
      kind: 'service',
      hostName: 'localhost:25671',
      sharedAccessKeyName: 'iothubowner',
      sharedAccessKey: KEY2,
    });
  });

  const missing: Array<[string, string, string]> = [
    ['HostName', `DeviceId=d1;SharedAccessKey=${KEY}`, "missing 'HostName'"],
    ['HostName when it is empty', `HostName=;DeviceId=d1;SharedAccessKey=${KEY}`, "missing 'HostName'"],
    ['DeviceId or SharedAccessKeyName', `HostName=h;SharedAccessKey=${KEY}`, "'DeviceId' (device) or 'SharedAccessKeyName' (service)"],
    ['SharedAccessKey on a service string', 'HostName=h;SharedAccessKeyName=iothubowner', "missing 'SharedAccessKey'"],
    ['every credential on a device string', 'HostName=h;DeviceId=d1', "'SharedAccessKey', 'SharedAccessSignature' or 'x509=true'"],
  ];
  for (const [what, text, messagePart] of missing) {
    test(`a string missing ${what} is rejected naming it`, () => {
      expectArgumentInvalid(() => parseIotHubConnectionString(text), messagePart);
    });
  }
});

describe('builders', () => {
  test('refuse a value containing ";", which a connection string cannot carry', () => {
    expectArgumentInvalid(
      () => buildDeviceConnectionString({ hostName: 'h', deviceId: 'a;b', sharedAccessKey: KEY }),
      "'DeviceId' contains ';'",
    );
  });

  test('refuse an empty value', () => {
    expectArgumentInvalid(
      () => buildServiceConnectionString({ hostName: 'h', sharedAccessKeyName: '', sharedAccessKey: KEY }),
      "'SharedAccessKeyName' is empty",
    );
  });
});

describe('Event Hub connection strings', () => {
  test('round-trip with UseDevelopmentEmulator=true and a port in the endpoint', () => {
    const text = buildEventHubConnectionString({
      endpoint: 'localhost:25672',
      sharedAccessKeyName: 'service',
      sharedAccessKey: KEY2,
      entityPath: 'myhub',
      useDevelopmentEmulator: true,
    });
    expect(text).toBe(
      `Endpoint=sb://localhost:25672/;SharedAccessKeyName=service;SharedAccessKey=${KEY2};EntityPath=myhub;UseDevelopmentEmulator=true`,
    );
    expect(parseEventHubConnectionString(text)).toEqual({
      endpoint: 'sb://localhost:25672/',
      sharedAccessKeyName: 'service',
      sharedAccessKey: KEY2,
      entityPath: 'myhub',
      useDevelopmentEmulator: true,
    });
  });

  test('build accepts an sb:// endpoint and leaves UseDevelopmentEmulator out unless asked', () => {
    const text = buildEventHubConnectionString({
      endpoint: 'sb://localhost:25671',
      sharedAccessKeyName: 'service',
      sharedAccessKey: KEY2,
      entityPath: 'myhub',
    });
    expect(text).toBe(`Endpoint=sb://localhost:25671/;SharedAccessKeyName=service;SharedAccessKey=${KEY2};EntityPath=myhub`);
    expect(parseEventHubConnectionString(text).useDevelopmentEmulator).toBeUndefined();
  });

  test('parses a SharedAccessSignature string without key name or key', () => {
    const sas = 'SharedAccessSignature sr=sb%3A%2F%2Fh%2Fe&sig=a%3D&se=1&skn=service';
    expect(parseEventHubConnectionString(`Endpoint=sb://h/;SharedAccessSignature=${sas};EntityPath=e`)).toEqual({
      endpoint: 'sb://h/',
      sharedAccessSignature: sas,
      entityPath: 'e',
    });
  });

  test('rejects a missing Endpoint, a non-sb:// Endpoint, a key without its name, and a key plus a SAS', () => {
    expectArgumentInvalid(() => parseEventHubConnectionString(`SharedAccessKeyName=s;SharedAccessKey=${KEY}`), "missing 'Endpoint'");
    expectArgumentInvalid(
      () => parseEventHubConnectionString(`Endpoint=amqps://h/;SharedAccessKeyName=s;SharedAccessKey=${KEY}`),
      'sb:// URL',
    );
    expectArgumentInvalid(() => parseEventHubConnectionString(`Endpoint=sb://h/;SharedAccessKey=${KEY}`), "missing 'SharedAccessKeyName'");
    expectArgumentInvalid(() => parseEventHubConnectionString('Endpoint=sb://h/;SharedAccessKeyName=s'), "missing 'SharedAccessKey'");
    expectArgumentInvalid(
      () => parseEventHubConnectionString(`Endpoint=sb://h/;SharedAccessKeyName=s;SharedAccessKey=${KEY};SharedAccessSignature=x`),
      'not both',
    );
  });

  test('rejects a UseDevelopmentEmulator value other than true or false', () => {
    expectArgumentInvalid(
      () => parseEventHubConnectionString(`Endpoint=sb://h/;SharedAccessKeyName=s;SharedAccessKey=${KEY};UseDevelopmentEmulator=1`),
      "'UseDevelopmentEmulator' must be true or false",
    );
  });
});
