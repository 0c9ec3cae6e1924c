/**
 * HTTPS message mapping: request headers and batch elements → TelemetryMessage (system
 * properties by header, `iothub-app-*`, `dt-subject`), whole-batch refusals, and a locked C2D
 * message → the response headers the SDK's `Http` transport reads.
 */

import { describe, expect, test } from 'bun:test';
import { type HubError, type LockedCloudToDeviceMessage, MAX_TELEMETRY_BYTES } from '@tributary/core';
import { c2dResponseHeaders, telemetryFromBatch, telemetryFromHeaders, telemetrySizeBytes } from './message-headers.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    return { code: (error as HubError).code, message: (error as HubError).message };
  }
  throw new Error('expected a refusal');
}

describe('telemetryFromHeaders', () => {
  test('maps every system-property header the SDK sends, whatever its case, and iothub-app-* as application properties', () => {
    const headers = new Headers({
      'IoTHub-MessageId': 'm-1',
      'IoTHub-CorrelationId': 'c-1',
      'IoTHub-UserId': 'u-1',
      'IoTHub-Expiry': '2030-01-01T00:00:00.000Z',
      'IoTHub-Ack': 'full',
      'iothub-contenttype': 'application/json',
      'iothub-contentencoding': 'utf-8',
      'iothub-interface-id': 'dtmi:x;1',
      'dt-subject': 'thermostat1',
      'iothub-app-Alert': 'yes',
      'iothub-app-path': 'a/b',
      'User-Agent': 'azure-iot-device/1.18.4',
      authorization: 'SharedAccessSignature sr=x',
    });
    const message = telemetryFromHeaders(headers, new TextEncoder().encode('hi'), 'dev1');
    expect(text(message.body)).toBe('hi');
    expect(message.systemProperties).toEqual({
      'message-id': 'm-1',
      'correlation-id': 'c-1',
      'user-id': 'u-1',
      'absolute-expiry-time': '2030-01-01T00:00:00.000Z',
      'content-type': 'application/json',
      'content-encoding': 'utf-8',
      'iothub-interface-id': 'dtmi:x;1',
      'dt-subject': 'thermostat1',
    });
    expect(message.applicationProperties).toEqual({ alert: 'yes', path: 'a/b' });
  });

  test('iothub-to is the message\'s `to` only when it is not the request\'s own events address', () => {
    const own = telemetryFromHeaders(new Headers({ 'iothub-to': '/devices/my%20dev/messages/events' }), new Uint8Array(), 'my dev');
    expect(own.systemProperties).toEqual({});
    const other = telemetryFromHeaders(new Headers({ 'IoTHub-To': '/elsewhere' }), new Uint8Array(), 'my dev');
    expect(other.systemProperties).toEqual({ to: '/elsewhere' });
  });

  test('empty system-property headers count as absent, empty application properties are kept', () => {
    const message = telemetryFromHeaders(new Headers({ 'iothub-messageid': '', 'iothub-app-empty': '' }), new Uint8Array(), 'd');
    expect(message.systemProperties).toEqual({});
    expect(message.applicationProperties).toEqual({ empty: '' });
  });
});

describe('telemetryFromBatch', () => {
  test('decodes each element: base64 body, iothub-app-* and system properties, dt-subject without prefix', () => {
    const batch = JSON.stringify([
      { body: b64('one'), properties: { 'iothub-app-k': 'v1', 'iothub-MessageId': 'm-1', 'dt-subject': 's' } },
      { body: b64('two') },
      { body: 'plain text', base64Encoded: false, properties: { 'iothub-app-k': 'v3' } },
      { body: '' },
    ]);
    const messages = telemetryFromBatch(batch, 'dev1');
    expect(messages.map((message) => text(message.body))).toEqual(['one', 'two', 'plain text', '']);
    expect(messages[0]).toMatchObject({ systemProperties: { 'message-id': 'm-1', 'dt-subject': 's' }, applicationProperties: { k: 'v1' } });
    expect(messages[1]).toMatchObject({ systemProperties: {}, applicationProperties: {} });
    expect(messages[2]!.applicationProperties).toEqual({ k: 'v3' });
  });

  test('reads the SDK\'s hand-concatenated body (spaces after the separators)', () => {
    const sdkBody = `[{"body": "${b64('a')}", "properties":{"iothub-app-k":"v"}},{"body": "${b64('b')}"}]`;
    expect(telemetryFromBatch(sdkBody, 'd').map((message) => message.applicationProperties)).toEqual([{ k: 'v' }, {}]);
  });

  test.each([
    ['not JSON', '[{"body": "a"', /not valid JSON/],
    ['not an array', '{"body":""}', /JSON array/],
    ['empty', '[]', /no messages/],
    ['an element that is not an object', `[{"body":"${b64('a')}"}, 7]`, /Message 1 .*not a JSON object/],
    ['an element without body', `[{"body":"${b64('a')}"}, {"properties":{}}]`, /Message 1 .*'body'/],
    ['a body that is not base64', `[{"body":"${b64('a')}"}, {"body":"no base64!"}]`, /Message 1 .*base64/],
    ['a body with base64 padding in the middle', '[{"body":"YQ==YQ=="}]', /Message 0 .*base64/],
    ['properties that are not an object', '[{"body":"", "properties":["x"]}]', /Message 0 .*'properties'/],
    ['a property value that is not a string', '[{"body":"", "properties":{"iothub-app-n":1}}]', /Message 0 .*'iothub-app-n'/],
    ['a base64Encoded that is not boolean', '[{"body":"", "base64Encoded":"yes"}]', /Message 0 .*'base64Encoded'/],
  ])('refuses the whole batch with ArgumentInvalid when it is %s', (_, batch, mentions) => {
    const { code, message } = refusal(() => telemetryFromBatch(batch, 'd'));
    expect(code).toBe('ArgumentInvalid');
    expect(message).toMatch(mentions);
  });

  test('refuses more than 500 messages with ArgumentInvalid, accepts exactly 500', () => {
    const element = { body: b64('x') };
    expect(telemetryFromBatch(JSON.stringify(Array(500).fill(element)), 'd')).toHaveLength(500);
    expect(refusal(() => telemetryFromBatch(JSON.stringify(Array(501).fill(element)), 'd'))).toMatchObject({
      code: 'ArgumentInvalid',
      message: expect.stringMatching(/501 messages/),
    });
  });

  test('refuses with MessageTooLarge when the messages together pass 256 KB, though each fits', () => {
    const half = b64('x'.repeat(MAX_TELEMETRY_BYTES / 2));
    expect(refusal(() => telemetryFromBatch(JSON.stringify([{ body: half }, { body: half, properties: { 'iothub-app-k': 'v' } }]), 'd')).code).toBe(
      'MessageTooLarge',
    );
    expect(telemetryFromBatch(JSON.stringify([{ body: half }, { body: half }]), 'd')).toHaveLength(2);
  });
});

describe('telemetrySizeBytes', () => {
  test('counts the body, system property values and application property names and values in UTF-8', () => {
    const size = telemetrySizeBytes({
      body: new Uint8Array(10),
      systemProperties: { 'message-id': 'abc' },
      applicationProperties: { 'é': 'xy' },
    });
    expect(size).toBe(10 + 3 + 2 + 2);
  });
});

describe('c2dResponseHeaders', () => {
  const message: LockedCloudToDeviceMessage = {
    sequenceNumber: 42,
    messageId: 'cmd-1',
    deviceId: 'dev1',
    deviceGenerationId: 'g',
    body: new Uint8Array(),
    systemProperties: {
      'message-id': 'cmd-1',
      to: '/devices/dev1/messages/deviceBound',
      'correlation-id': 'corr-1',
      'user-id': 'svc',
      'content-type': 'text/plain',
    },
    applicationProperties: { mode: 'fast', 'iothub-ack': 'full', 'temp alert': 'café' },
    ack: 'full',
    enqueuedTime: Date.UTC(2030, 0, 1),
    expiryTime: Date.UTC(2030, 0, 1, 1),
    deliveryCount: 2,
    lockToken: 'lock-1',
    lockedUntil: Date.UTC(2030, 0, 1, 0, 1),
  };

  test('carries the lock token quoted in ETag and every iothub-* header the SDK and IoT Hub use', () => {
    expect(c2dResponseHeaders(message)).toEqual({
      etag: '"lock-1"',
      'content-type': 'application/octet-stream',
      'iothub-messageid': 'cmd-1',
      'iothub-to': '/devices/dev1/messages/deviceBound',
      'iothub-correlationid': 'corr-1',
      'iothub-userid': 'svc',
      'iothub-contenttype': 'text/plain',
      'iothub-sequencenumber': '42',
      'iothub-enqueuedtime': '2030-01-01T00:00:00.000Z',
      'iothub-expiry': '2030-01-01T01:00:00.000Z',
      'iothub-deliverycount': '1',
      'iothub-ack': 'full',
      'iothub-app-mode': 'fast',
      'iothub-app-temp%20alert': 'caf%C3%A9',
    });
  });

  test('every header is one a Response accepts', () => {
    expect(() => new Response(null, { headers: c2dResponseHeaders(message) })).not.toThrow();
  });
});
