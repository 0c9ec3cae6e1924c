/**
 * Bad input to the service REST API of a spawned hub, over real HTTPS with plain `fetch`: every
 * refusal must be IoT Hub's REST error (status, `iothub-errorcode`, `Message` naming what was
 * wrong, numeric `errorCode`, JSON content type) and must leave the registry exactly as it was.
 * Nothing here may crash the hub or be logged as a bug.
 *
 * Bun's fetch does not honour `tls.setDefaultCACertificates` (it fails with
 * SELF_SIGNED_CERT_IN_CHAIN), so every request passes the test CA as `tls.ca`.
 */

import { afterAll, beforeAll, expect, test } from 'bun:test';
import { generateKey, parseIotHubConnectionString, sasRecipes } from '@tributary/core';
import { forEachStorage, sharedTestCa, spawnHub, type SpawnedHub } from './spawn-hub.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const TWO_MIB = 2 * 1024 * 1024;

type Body = string | (() => ReadableStream<Uint8Array>);

interface Send {
  body?: Body;
  headers?: Record<string, string>;
  /** Overrides the valid iothubowner token; `null` sends no Authorization header. */
  authorization?: string | null;
}

interface Refusal {
  status: number;
  code: string;
  numeric: number;
  /** What the text after `ErrorCode:<Name>;` must say. */
  mentions: RegExp;
}

interface ErrorBody {
  Message: string;
  ExceptionMessage: string;
  errorCode: number;
}

interface DeviceJson {
  deviceId: string;
  etag: string;
}

/** A body sent with chunked transfer encoding: a stream has no length to declare. */
function chunked(text: string): () => ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return () =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (let offset = 0; offset < bytes.length; offset += 64 * 1024) controller.enqueue(bytes.slice(offset, offset + 64 * 1024));
        controller.close();
      },
    });
}

const seconds = () => Math.floor(Date.now() / 1000);
const json = (value: unknown) => JSON.stringify(value);
const signatureOf = (token: string) => decodeURIComponent(/[?&\s]sig=([^&]+)/.exec(token)![1]!);

forEachStorage('bad input to the service REST API', (storage) => {
  let hub: SpawnedHub;
  let ca: string;
  let ownerKey: string;
  let run = 0;
  const anchorId = `anchor-${storage}`;
  const newId = (label: string) => `${label}-${storage}-${++run}`;

  const ownerToken = (overrides: { host?: string; key?: string; expiresAt?: number } = {}) =>
    sasRecipes.service(overrides.host ?? hub.info.hostName, 'iothubowner', overrides.key ?? ownerKey, overrides.expiresAt ?? seconds() + 3600);

  function send(method: string, path: string, { body, headers = {}, authorization }: Send = {}): Promise<Response> {
    const auth = authorization === undefined ? ownerToken() : authorization;
    return fetch(hub.baseUrl + path, {
      method,
      headers: {
        ...(auth === null ? {} : { authorization: auth }),
        'content-type': JSON_CONTENT_TYPE,
        ...headers,
      },
      body: typeof body === 'function' ? body() : body,
      tls: { ca },
    });
  }

  async function ok<T>(response: Response, status = 200): Promise<T> {
    const text = await response.text();
    if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** Everything a refusal must carry on the wire; returns the raw body text and the parsed body. */
  async function expectRefused(response: Response, expected: Refusal): Promise<{ text: string; body: ErrorBody }> {
    const text = await response.text();
    expect({ status: response.status, code: response.headers.get('iothub-errorcode'), text }).toMatchObject({
      status: expected.status,
      code: expected.code,
    });
    expect(response.headers.get('content-type')).toBe(JSON_CONTENT_TYPE);
    const body = JSON.parse(text) as ErrorBody;
    expect(body.Message).toStartWith(`ErrorCode:${expected.code};`);
    expect(body.Message.split(';')[1]).toMatch(expected.mentions);
    expect(body.errorCode).toBe(expected.numeric);
    expect(body.ExceptionMessage).toMatch(/^Tracking ID:[0-9a-f]{32}-G:0-TimeStamp:\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    return { text, body };
  }

  interface RegistrySnapshot {
    total: number;
    ids: string[];
    anchor: DeviceJson;
  }

  async function snapshot(): Promise<RegistrySnapshot> {
    const { totalDeviceCount } = await ok<{ totalDeviceCount: number }>(await send('GET', '/statistics/devices'));
    const ids = (await ok<DeviceJson[]>(await send('GET', '/devices/'))).map((device) => device.deviceId).sort();
    const anchor = await ok<DeviceJson>(await send('GET', `/devices/${anchorId}`));
    return { total: totalDeviceCount, ids, anchor };
  }

  /** The registry is as `before`: same count, same ids, the anchor device byte-for-byte, and `absent` ids not registered. */
  async function expectUnchanged(before: RegistrySnapshot, absent: string[] = []): Promise<void> {
    expect(await snapshot()).toEqual(before);
    for (const deviceId of absent) {
      const response = await send('GET', `/devices/${encodeURIComponent(deviceId)}`);
      expect({ deviceId, status: response.status, code: response.headers.get('iothub-errorcode') }).toEqual({
        deviceId,
        status: 404,
        code: 'DeviceNotFound',
      });
      await response.body?.cancel();
    }
  }

  /** Sends one bad request and checks the refusal and that nothing changed. */
  async function refusedWithoutChange(method: string, path: string, request: Send, expected: Refusal, absent: string[] = []) {
    const before = await snapshot();
    const refused = await expectRefused(await send(method, path, request), expected);
    await expectUnchanged(before, absent);
    return refused;
  }

  beforeAll(async () => {
    hub = await spawnHub({ storage });
    ca = (await sharedTestCa()).certPem;
    const owner = parseIotHubConnectionString(hub.connectionString('iothubowner'));
    if (owner.kind !== 'service') throw new Error('expected a service connection string');
    ownerKey = owner.sharedAccessKey;
    await ok(await send('PUT', `/devices/${anchorId}`, { body: json({ deviceId: anchorId, statusReason: 'the anchor' }) }));
  }, 60_000);

  afterAll(async () => {
    expect(await hub?.stop()).toBe(0);
  });

  // ---- body syntax -------------------------------------------------------------------------

  const formatError = (mentions: RegExp): Refusal => ({ status: 400, code: 'IotHubFormatError', numeric: 400006, mentions });
  const argumentInvalid = (mentions: RegExp): Refusal => ({ status: 400, code: 'ArgumentInvalid', numeric: 400004, mentions });

  test('malformed JSON on PUT /devices/{id} is 400 IotHubFormatError and creates nothing', async () => {
    const id = newId('malformed');
    await refusedWithoutChange('PUT', `/devices/${id}`, { body: `{"deviceId":"${id}",` }, formatError(/not valid JSON/), [id]);
  });

  test('malformed JSON on PUT of an existing device with If-Match "*" is 400 IotHubFormatError and changes nothing', async () => {
    await refusedWithoutChange('PUT', `/devices/${anchorId}`, { body: '{status: disabled}', headers: { 'if-match': '"*"' } }, formatError(/not valid JSON/));
  });

  test('malformed JSON on POST /devices is 400 IotHubFormatError and creates nothing', async () => {
    const id = newId('malformed-bulk');
    await refusedWithoutChange('POST', '/devices', { body: `[{"id":"${id}"}` }, formatError(/not valid JSON/), [id]);
  });

  test('an empty body on PUT /devices/{id} is 400 IotHubFormatError saying the body is empty', async () => {
    const id = newId('empty');
    await refusedWithoutChange('PUT', `/devices/${id}`, { body: '' }, formatError(/empty/), [id]);
  });

  test('an empty body on POST /devices is 400 IotHubFormatError saying the body is empty', async () => {
    await refusedWithoutChange('POST', '/devices', { body: '' }, formatError(/empty/));
  });

  test('a JSON body that is not an object on PUT /devices/{id} is 400 ArgumentInvalid', async () => {
    const id = newId('array-body');
    await refusedWithoutChange('PUT', `/devices/${id}`, { body: '[]' }, argumentInvalid(/JSON object/), [id]);
  });

  // ---- known fields of the wrong type or value ---------------------------------------------

  const fieldCases: { name: string; fields: Record<string, unknown>; mentions: RegExp }[] = [
    { name: 'status: 5', fields: { status: 5 }, mentions: /status/ },
    { name: "status: 'paused'", fields: { status: 'paused' }, mentions: /status/ },
    { name: "authentication: 'x'", fields: { authentication: 'x' }, mentions: /authentication/ },
    { name: 'authentication.symmetricKey.primaryKey: 12', fields: { authentication: { symmetricKey: { primaryKey: 12 } } }, mentions: /primaryKey/ },
    { name: "capabilities.iotEdge: 'yes'", fields: { capabilities: { iotEdge: 'yes' } }, mentions: /iotEdge/ },
    { name: "parentScopes: 'a'", fields: { parentScopes: 'a' }, mentions: /parentScopes/ },
    {
      name: "primaryKey 'bm90IGJhc2U2NA' (unpadded base64)",
      fields: { authentication: { type: 'sas', symmetricKey: { primaryKey: 'bm90IGJhc2U2NA', secondaryKey: generateKey() } } },
      mentions: /primaryKey/,
    },
    {
      name: "primaryKey 'AAAA' (3 bytes, too short)",
      fields: { authentication: { type: 'sas', symmetricKey: { primaryKey: 'AAAA', secondaryKey: generateKey() } } },
      mentions: /primaryKey/,
    },
    {
      name: 'secondaryKey of 65 bytes (too long)',
      fields: { authentication: { type: 'sas', symmetricKey: { primaryKey: generateKey(), secondaryKey: Buffer.alloc(65, 1).toString('base64') } } },
      mentions: /secondaryKey/,
    },
    { name: "authentication.type 'password'", fields: { authentication: { type: 'password' } }, mentions: /authentication\.type/ },
  ];

  for (const { name, fields, mentions } of fieldCases) {
    test(`creating a device with ${name} is 400 ArgumentInvalid naming the field and creates nothing`, async () => {
      const id = newId('bad-field');
      await refusedWithoutChange('PUT', `/devices/${id}`, { body: json({ deviceId: id, ...fields }) }, argumentInvalid(mentions), [id]);
    });

    test(`replacing an existing device with ${name} is 400 ArgumentInvalid and leaves it unchanged`, async () => {
      await refusedWithoutChange(
        'PUT',
        `/devices/${anchorId}`,
        { body: json({ deviceId: anchorId, ...fields }), headers: { 'if-match': '"*"' } },
        argumentInvalid(mentions),
      );
    });
  }

  test('a deviceId in the body that differs from the path is 400 ArgumentInvalid naming both and creates neither', async () => {
    const [inPath, inBody] = [newId('path'), newId('body')];
    await refusedWithoutChange('PUT', `/devices/${inPath}`, { body: json({ deviceId: inBody }) }, argumentInvalid(new RegExp(`${inBody}.*${inPath}`)), [inPath, inBody]);
  });

  test('replacing an existing device with another deviceId in the body is 400 ArgumentInvalid and leaves it unchanged', async () => {
    const other = newId('other');
    await refusedWithoutChange(
      'PUT',
      `/devices/${anchorId}`,
      { body: json({ deviceId: other, status: 'disabled' }), headers: { 'if-match': '"*"' } },
      argumentInvalid(/deviceId/),
      [other],
    );
  });

  // ---- invalid device ids in the path ------------------------------------------------------

  const invalidIds: { name: string; encoded: string; mentions: RegExp }[] = [
    { name: 'invalid%2Fname (a slash)', encoded: 'invalid%2Fname', mentions: /deviceId 'invalid\/name'/ },
    { name: '129 characters', encoded: 'x'.repeat(129), mentions: /deviceId is longer than 128/ },
    { name: 'has%20space (a space)', encoded: 'has%20space', mentions: /deviceId 'has space'/ },
    { name: '%C3%A9 (non-ASCII é)', encoded: '%C3%A9', mentions: /deviceId 'é'/ },
  ];

  for (const { name, encoded, mentions } of invalidIds) {
    test(`PUT /devices/${name} is 400 ArgumentInvalid naming the deviceId and registers nothing`, async () => {
      await refusedWithoutChange('PUT', `/devices/${encoded}`, { body: '{}' }, argumentInvalid(mentions));
    });

    test(`GET and DELETE /devices/${name} are 400 ArgumentInvalid`, async () => {
      await expectRefused(await send('GET', `/devices/${encoded}`), argumentInvalid(mentions));
      await refusedWithoutChange('DELETE', `/devices/${encoded}`, { headers: { 'if-match': '"*"' } }, argumentInvalid(mentions));
    });
  }

  test('an invalid moduleId in the path is 400 ArgumentInvalid naming the moduleId and adds no module', async () => {
    await refusedWithoutChange('PUT', `/devices/${anchorId}/modules/bad%2Fmodule`, { body: '{}' }, argumentInvalid(/moduleId 'bad\/module'/));
    expect(await ok<unknown[]>(await send('GET', `/devices/${anchorId}/modules`))).toEqual([]);
  });

  // ---- bulk (POST /devices) ----------------------------------------------------------------

  test('a bulk body that is not an array is 400 ArgumentInvalid and creates nothing', async () => {
    const id = newId('not-array');
    await refusedWithoutChange('POST', '/devices', { body: json({ id, importMode: 'create' }) }, argumentInvalid(/array/), [id]);
  });

  test('a bulk request of 101 devices is refused with 413 TooManyDevices (413002) and creates none of them', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => newId(`many-${i}`));
    await refusedWithoutChange(
      'POST',
      '/devices',
      { body: json(ids.map((id) => ({ id, importMode: 'create' }))) },
      { status: 413, code: 'TooManyDevices', numeric: 413002, mentions: /100/ },
      [ids[0]!, ids[50]!, ids[100]!],
    );
  });

  const malformedElements: { name: string; element: (id: string) => unknown; code?: string; numeric?: number; mentions: RegExp }[] = [
    { name: 'status: 5', element: (id) => ({ id, importMode: 'create', status: 5 }), mentions: /devices\[1\]\.status/ },
    { name: "status: 'paused'", element: (id) => ({ id, importMode: 'create', status: 'paused' }), mentions: /status/ },
    { name: "authentication: 'x'", element: (id) => ({ id, importMode: 'create', authentication: 'x' }), mentions: /devices\[1\]\.authentication/ },
    {
      name: 'an invalid primaryKey',
      element: (id) => ({ id, importMode: 'create', authentication: { type: 'sas', symmetricKey: { primaryKey: 'bm90IGJhc2U2NA', secondaryKey: '' } } }),
      mentions: /primaryKey/,
    },
    { name: "capabilities.iotEdge: 'yes'", element: (id) => ({ id, importMode: 'create', capabilities: { iotEdge: 'yes' } }), mentions: /devices\[1\]\.capabilities\.iotEdge/ },
    { name: 'an invalid id', element: () => ({ id: 'bad/id', importMode: 'create' }), mentions: /deviceId 'bad\/id'/ },
    { name: 'no id', element: () => ({ importMode: 'create' }), mentions: /devices\[1\]\.id/ },
    { name: 'a string instead of an object', element: () => 'not-a-device', mentions: /devices\[1\]/ },
    { name: "importMode 'frobnicate'", element: (id) => ({ id, importMode: 'frobnicate' }), mentions: /importMode.*frobnicate/ },
  ];

  for (const { name, element, mentions } of malformedElements) {
    test(`a bulk request with one element with ${name} among valid ones is refused whole (400 ArgumentInvalid), creating none`, async () => {
      const [first, bad, last] = [newId('bulk-ok'), newId('bulk-bad'), newId('bulk-ok')];
      const body = [{ id: first, importMode: 'create' }, element(bad), { id: last, importMode: 'create' }];
      await refusedWithoutChange('POST', '/devices', { body: json(body) }, argumentInvalid(mentions), [first, last]);
    });
  }

  test('a bulk request naming a device twice is 400 DeviceDefinedMultipleTimes (400011) naming it, creating none', async () => {
    const [twice, other] = [newId('twice'), newId('bulk-ok')];
    await refusedWithoutChange(
      'POST',
      '/devices',
      { body: json([{ id: twice, importMode: 'create' }, { id: other, importMode: 'create' }, { id: twice, importMode: 'update' }]) },
      { status: 400, code: 'DeviceDefinedMultipleTimes', numeric: 400011, mentions: new RegExp(twice) },
      [twice, other],
    );
  });

  test('a bulk request deleting the anchor alongside a malformed element deletes nothing', async () => {
    await refusedWithoutChange(
      'POST',
      '/devices',
      { body: json([{ id: anchorId, importMode: 'delete' }, { id: newId('bulk-bad'), importMode: 'create', status: 7 }]) },
      argumentInvalid(/status/),
    );
  });

  // ---- size and content type ---------------------------------------------------------------

  const tooLarge: Refusal = { status: 413, code: 'GenericRequestEntityTooLarge', numeric: 413000, mentions: /larger than \d+ bytes/ };
  const bigDevice = (id: string) => json({ deviceId: id, statusReason: 'x'.repeat(TWO_MIB) });

  test('a 2 MiB JSON body with Content-Length is 413 GenericRequestEntityTooLarge and creates nothing', async () => {
    const id = newId('big');
    await refusedWithoutChange('PUT', `/devices/${id}`, { body: bigDevice(id) }, tooLarge, [id]);
  });

  test('a 2 MiB JSON body sent chunked (no Content-Length) is 413 GenericRequestEntityTooLarge and creates nothing', async () => {
    const id = newId('big-chunked');
    await refusedWithoutChange('PUT', `/devices/${id}`, { body: chunked(bigDevice(id)) }, tooLarge, [id]);
  });

  test('a 2 MiB chunked bulk body is 413 GenericRequestEntityTooLarge and creates nothing', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => newId(`big-bulk-${i}`));
    const body = json(ids.map((id) => ({ id, importMode: 'create', statusReason: 'y'.repeat(TWO_MIB / 50) })));
    await refusedWithoutChange('POST', '/devices', { body: chunked(body) }, tooLarge, [ids[0]!, ids[49]!]);
  });

  test('a 2 MiB body replacing an existing device is 413 and leaves it unchanged', async () => {
    await refusedWithoutChange('PUT', `/devices/${anchorId}`, { body: chunked(bigDevice(anchorId)), headers: { 'if-match': '"*"' } }, tooLarge);
  });

  test('Content-Type text/plain is 415 GenericUnsupportedMediaType naming the type and creates nothing', async () => {
    const id = newId('text');
    const unsupported: Refusal = { status: 415, code: 'GenericUnsupportedMediaType', numeric: 415000, mentions: /text\/plain/ };
    await refusedWithoutChange('PUT', `/devices/${id}`, { body: json({ deviceId: id }), headers: { 'content-type': 'text/plain' } }, unsupported, [id]);
    await refusedWithoutChange('POST', '/devices', { body: json([{ id, importMode: 'create' }]), headers: { 'content-type': 'text/plain' } }, unsupported, [id]);
  });

  // ---- authorization -----------------------------------------------------------------------

  const unauthorized: Refusal = { status: 401, code: 'IotHubUnauthorizedAccess', numeric: 401002, mentions: /./ };

  const badAuthorizations: { name: string; header: () => string | null; mentions: RegExp }[] = [
    { name: 'no Authorization header', header: () => null, mentions: /Authorization/ },
    { name: "'Bearer abc'", header: () => 'Bearer abc', mentions: /must hold a SharedAccessSignature/ },
    { name: "'SharedAccessSignature garbage'", header: () => 'SharedAccessSignature garbage', mentions: /SAS token/ },
    { name: 'a token signed with another key', header: () => ownerToken({ key: generateKey() }), mentions: /signature is not valid/ },
    { name: 'an expired token', header: () => ownerToken({ expiresAt: seconds() - 3600 }), mentions: /expired/ },
    { name: 'a token for another host', header: () => ownerToken({ host: 'other-hub.example.net' }), mentions: /other-hub\.example\.net/ },
  ];

  for (const { name, header, mentions } of badAuthorizations) {
    test(`${name} is 401 IotHubUnauthorizedAccess, never echoes the signature, and writes nothing`, async () => {
      const id = newId('unauthorized');
      const authorization = header();
      const { text, body } = await refusedWithoutChange(
        'PUT',
        `/devices/${id}`,
        { body: json({ deviceId: id }), authorization },
        { ...unauthorized, mentions },
        [id],
      );
      if (authorization?.includes('sig=')) {
        const signature = signatureOf(authorization);
        expect(text).not.toContain(signature);
        expect(text).not.toContain(encodeURIComponent(signature));
      }
      if (authorization) {
        expect(text).not.toContain(authorization);
        const secret = authorization.split(/\s+/).at(-1)!;
        expect(body.Message).not.toContain(secret);
      }
    });
  }

  test('deleting the anchor with a token signed by another key is 401 and the anchor stays', async () => {
    await refusedWithoutChange('DELETE', `/devices/${anchorId}`, { authorization: ownerToken({ key: generateKey() }), headers: { 'if-match': '"*"' } }, {
      ...unauthorized,
      mentions: /signature is not valid/,
    });
  });

  test('a bulk request with an expired token is 401 and creates nothing', async () => {
    const id = newId('unauthorized-bulk');
    await refusedWithoutChange(
      'POST',
      '/devices',
      { body: json([{ id, importMode: 'create' }]), authorization: ownerToken({ expiresAt: seconds() - 3600 }) },
      { ...unauthorized, mentions: /expired/ },
      [id],
    );
  });

  // ---- unknown paths and methods -----------------------------------------------------------

  const genericNotFound = (mentions: RegExp): Refusal => ({ status: 404, code: 'GenericNotFound', numeric: 404000, mentions });
  const methodNotAllowed = (mentions: RegExp): Refusal => ({ status: 405, code: 'GenericMethodNotAllowed', numeric: 405000, mentions });

  test('an unknown path is 404 GenericNotFound naming it', async () => {
    await refusedWithoutChange('GET', '/no/such/resource', {}, genericNotFound(/\/no\/such\/resource/));
    await refusedWithoutChange('POST', '/nope', { body: json({ deviceId: 'x' }) }, genericNotFound(/POST \/nope/));
  });

  test('an unknown sub-path of a device (GET /devices/{id}/nonsense) is 404 GenericNotFound, not 405', async () => {
    await refusedWithoutChange('GET', `/devices/${anchorId}/nonsense`, {}, genericNotFound(/nonsense/));
  });

  test('PATCH /devices/{id} is 405 GenericMethodNotAllowed and leaves the device unchanged', async () => {
    await refusedWithoutChange('PATCH', `/devices/${anchorId}`, { body: json({ status: 'disabled' }), headers: { 'if-match': '"*"' } }, methodNotAllowed(/PATCH/));
    await refusedWithoutChange('POST', `/devices/${anchorId}`, { body: json({ status: 'disabled' }) }, methodNotAllowed(/POST/));
  });

  test('a 405 answer lists the allowed methods in an Allow header (RFC 9110 §15.5.6)', async () => {
    const response = await send('PATCH', `/devices/${anchorId}`, { body: '{}' });
    await response.body?.cancel();
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')?.split(/\s*,\s*/).sort()).toEqual(['DELETE', 'GET', 'PUT']);
  });

  // ---- still alive -------------------------------------------------------------------------

  test('after all of this the hub still serves GET /health, the registry still works, and nothing was logged as a bug', async () => {
    const health = await send('GET', '/health', { authorization: null });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const id = newId('still-alive');
    expect((await ok<DeviceJson>(await send('PUT', `/devices/${id}`, { body: json({ deviceId: id }) }))).deviceId).toBe(id);
    expect((await ok<DeviceJson>(await send('GET', `/devices/${id}`))).deviceId).toBe(id);
    const logs = `${hub.stdout()}\n${hub.stderr()}`;
    expect(logs).not.toMatch(/"level":"error"/);
    expect(logs).not.toContain('request_failed');
  });
});
