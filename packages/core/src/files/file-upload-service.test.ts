import { beforeEach, describe, expect, test } from 'bun:test';
import { HubError, type HubErrorName } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { MemoryBlobContentStore, MemoryFileStore } from '../testing/memory-file-stores.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';
import { FILE_UPLOAD_SETTING_KEYS, parseFileUploadSettings } from './file-upload-settings.ts';
import { FileUploadService, parseFileUploadOutcome } from './file-upload-service.ts';
import { validateUploadBlobName } from './file-upload.ts';

const HOST = 'hub.example.net';
const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);
const query = (sasToken: string) => new URLSearchParams(sasToken.slice(1));

async function rejectsWith(promise: Promise<unknown>, code: HubErrorName): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubError);
  expect((error as HubError).code).toBe(code);
  return error as HubError;
}

describe('FileUploadService', () => {
  let clock: FakeClock;
  let store: MemoryFileStore;
  let blobs: MemoryBlobContentStore;
  let settings: ReturnType<typeof createMemoryStores>['settings'];
  let service: FileUploadService;
  const create = (quota = 1000) =>
    new FileUploadService({ store, blobs, settings, hostName: HOST, clock, logger: silentLogger, options: { deviceQuotaBytes: quota } });

  beforeEach(() => {
    clock = new FakeClock(Date.UTC(2026, 5, 1, 12));
    store = new MemoryFileStore();
    blobs = new MemoryBlobContentStore();
    settings = createMemoryStores().settings;
    service = create();
  });

  test('initiation answers the SDK shape with a unique correlation id and an rw SAS for exactly that blob', async () => {
    const a = await service.initiate('dev1', 'dir/a.txt');
    const b = await service.initiate('dev1', 'dir/a.txt');
    expect(a).toMatchObject({ hostName: HOST, containerName: 'tributary-files', blobName: 'dev1/dir/a.txt' });
    expect(a.sasToken.startsWith('?')).toBe(true);
    expect(query(a.sasToken).get('sp')).toBe('rw');
    expect(a.correlationId).not.toBe(b.correlationId);
    await service.authorizeBlobRequest('tributary-files', 'dev1/dir/a.txt', query(a.sasToken), 'w');
    await rejectsWith(service.authorizeBlobRequest('tributary-files', 'dev1/dir/b.txt', query(a.sasToken), 'w'), 'IotHubUnauthorizedAccess');
  });

  test('the signing key is created once, on first use, in the hub settings', async () => {
    expect(await settings.get(FILE_UPLOAD_SETTING_KEYS.sasSigningKey)).toBeUndefined();
    await Promise.all([service.initiate('dev1', 'a'), service.initiate('dev1', 'b')]);
    const key = await settings.get<string>(FILE_UPLOAD_SETTING_KEYS.sasSigningKey);
    expect(Buffer.from(key!, 'base64').length).toBe(32);
    // Another service over the same settings (a restarted hub) verifies what this one issued.
    const issued = await service.initiate('dev1', 'c');
    await create().authorizeBlobRequest('tributary-files', 'dev1/c', query(issued.sasToken), 'r');
  });

  test('the SAS expires after the TTL setting (default one hour)', async () => {
    const issued = await service.initiate('dev1', 'a');
    clock.advance(3_600_000 - 1000);
    await service.authorizeBlobRequest('tributary-files', 'dev1/a', query(issued.sasToken), 'w');
    clock.advance(1000);
    await rejectsWith(service.authorizeBlobRequest('tributary-files', 'dev1/a', query(issued.sasToken), 'w'), 'IotHubUnauthorizedAccess');
    await service.updateSettings({ sasTtlSeconds: 5 });
    const short = await service.initiate('dev1', 'b');
    clock.advance(5000);
    await rejectsWith(service.authorizeBlobRequest('tributary-files', 'dev1/b', query(short.sasToken), 'r'), 'IotHubUnauthorizedAccess');
  });

  test('an 11th concurrent initiation fails with DeviceMaximumActiveFileUploadLimitExceeded; a completion or expiry frees a slot', async () => {
    const uploads = await Promise.all(Array.from({ length: 10 }, (_, i) => service.initiate('dev1', `f${i}`)));
    const error = await rejectsWith(service.initiate('dev1', 'f10'), 'DeviceMaximumActiveFileUploadLimitExceeded');
    expect(error.status).toBe(403);
    expect(error.numericCode).toBe(403006);
    await service.initiate('dev2', 'other');
    await service.complete('dev1', uploads[0]!.correlationId, { isSuccess: false, statusCode: 500, statusDescription: 'x' });
    await service.initiate('dev1', 'f10');
    await rejectsWith(service.initiate('dev1', 'f11'), 'DeviceMaximumActiveFileUploadLimitExceeded');
    clock.advance(3_600_000);
    await service.initiate('dev1', 'f12');
  });

  test('a successful upload records its file notification; a failed one or a disabled setting does not', async () => {
    const issued = await service.initiate('dev1', 'dir/a.txt');
    await service.putBlock(issued.blobName, 'b1', bytes(10), 10);
    await service.putBlock(issued.blobName, 'b2', bytes(5, 2), 5);
    const commit = await service.commitBlockList(issued.blobName, ['b1', 'b2'], { contentType: 'text/plain' });
    expect(commit.isCommitted).toBe(true);
    clock.advance(20);
    await service.complete('dev1', issued.correlationId, { isSuccess: true, statusCode: 201, statusDescription: 'done' });
    const [notification] = await service.listNotifications({ deviceId: 'dev1', limit: 10 });
    expect(notification).toMatchObject({
      deviceId: 'dev1',
      blobName: 'dev1/dir/a.txt',
      blobUri: `https://${HOST}/tributary-files/dev1/dir/a.txt`,
      blobSizeInBytes: 15,
      enqueuedTimeUtc: clock.now(),
      lastUpdatedTime: clock.now() - 20,
    });
    // Repeating the completion changes nothing.
    await service.complete('dev1', issued.correlationId, { isSuccess: true, statusCode: 201, statusDescription: 'done' });
    expect((await service.listNotifications({ limit: 10 })).length).toBe(1);

    const failed = await service.initiate('dev1', 'b');
    await service.putBlock(failed.blobName, 'x', bytes(3), 3);
    await service.complete('dev1', failed.correlationId, { isSuccess: false, statusCode: 500, statusDescription: 'broken' });
    expect(blobs.stagedBlockIds(failed.blobName)).toEqual([]);

    await service.updateSettings({ isNotificationEnabled: false });
    const quiet = await service.initiate('dev1', 'c');
    await service.putBlob(quiet.blobName, bytes(4), {}, 4);
    await service.complete('dev1', quiet.correlationId, { isSuccess: true, statusCode: 201, statusDescription: '' });
    expect((await service.listNotifications({ limit: 10 })).length).toBe(1);
  });

  test("completing an unknown or another device's correlation id fails with ArgumentInvalid", async () => {
    const issued = await service.initiate('dev1', 'a');
    await rejectsWith(service.complete('dev1', 'nope', { isSuccess: true, statusCode: 201, statusDescription: '' }), 'ArgumentInvalid');
    await rejectsWith(service.complete('dev2', issued.correlationId, { isSuccess: true, statusCode: 201, statusDescription: '' }), 'ArgumentInvalid');
  });

  test('an upload past the quota is refused and its staged blocks are deleted, later blocks too', async () => {
    service = create(100);
    await service.putBlob('dev1/old', bytes(30), {}, 30);
    const issued = await service.initiate('dev1', 'big');
    await service.putBlock(issued.blobName, 'b1', bytes(40), 40);
    await rejectsWith(service.putBlock(issued.blobName, 'b2', bytes(40), 40), 'IotHubQuotaExceeded');
    expect(blobs.stagedBlockIds(issued.blobName)).toEqual([]);
    await rejectsWith(service.putBlock(issued.blobName, 'b3', bytes(1), 1), 'IotHubQuotaExceeded');
    await rejectsWith(service.commitBlockList(issued.blobName, ['b1'], {}), 'IotHubQuotaExceeded');
    expect(await blobs.getProperties(issued.blobName)).toBeUndefined();
    expect(await blobs.usageBytes('dev1')).toBe(30);
    // Other devices have quotas of their own; a new upload of the same name starts afresh.
    await service.putBlob('dev2/x', bytes(100), {}, 100);
    const again = await service.initiate('dev1', 'big');
    await service.putBlock(again.blobName, 'b1', bytes(70), 70);
  });

  test('a body without a declared length is cut off at the quota and leaves nothing', async () => {
    service = create(10);
    const issued = await service.initiate('dev1', 'stream');
    await rejectsWith(service.putBlob(issued.blobName, new Response(bytes(11)).body!, {}), 'IotHubQuotaExceeded');
    expect(await blobs.usageBytes('dev1')).toBe(0);
  });

  test('parallel blocks cannot pass the quota together: the upload is refused, every block of it too', async () => {
    service = create(100);
    const issued = await service.initiate('dev1', 'par');
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => service.putBlock(issued.blobName, `b${i}`, bytes(30), 30)),
    );
    expect(results.filter((r) => r.status === 'rejected').length).toBeGreaterThanOrEqual(2);
    expect(await blobs.usageBytes('dev1')).toBe(0);
  });

  test('a commit listing a block that is not staged is an invalid block list', async () => {
    const issued = await service.initiate('dev1', 'a');
    await service.putBlock(issued.blobName, 'b1', bytes(1), 1);
    expect(await service.commitBlockList(issued.blobName, ['b1', 'missing'], {})).toEqual({ isCommitted: false, reason: 'invalidBlockList' });
  });

  test('files are listed, read and deleted by device', async () => {
    await service.putBlob('dev1/a/b.txt', new TextEncoder().encode('hello'), { contentType: 'text/plain' }, 5);
    expect((await service.listFiles('dev1')).map((f) => f.blobName)).toEqual(['dev1/a/b.txt']);
    const { properties, body } = await service.readFile('dev1', 'a/b.txt');
    expect(properties.contentType).toBe('text/plain');
    expect(await new Response(body).text()).toBe('hello');
    await service.deleteFile('dev1', 'a/b.txt');
    await rejectsWith(service.readFile('dev1', 'a/b.txt'), 'GenericNotFound');
    await rejectsWith(service.deleteFile('dev1', 'a/b.txt'), 'GenericNotFound');
  });
});

describe('file upload input', () => {
  test('blob names: the device id prefixes them; empty, dot segments and overlong names are refused', () => {
    expect(validateUploadBlobName('dev1', 'mye2edir/e2eblob')).toBe('dev1/mye2edir/e2eblob');
    for (const bad of ['', 'a//b', './a', 'a/../b', '/a', 'a/', 'x'.repeat(1100), 'a\\b', 42]) {
      expect(() => validateUploadBlobName('dev1', bad)).toThrow(HubError);
    }
  });

  test('notification bodies: isSuccess is required, correlationId may be in the body', () => {
    expect(parseFileUploadOutcome({ isSuccess: true, statusCode: 201, statusDescription: 'ok' })).toEqual({ isSuccess: true, statusCode: 201, statusDescription: 'ok' });
    expect(parseFileUploadOutcome({ correlationId: 'c', isSuccess: false })).toEqual({ correlationId: 'c', isSuccess: false, statusCode: 500, statusDescription: '' });
    for (const bad of [null, [], {}, { isSuccess: 'yes' }, { isSuccess: true, statusCode: 'x' }]) {
      expect(() => parseFileUploadOutcome(bad)).toThrow(HubError);
    }
  });

  test('settings: TTL bounds and types are checked', () => {
    expect(parseFileUploadSettings({ sasTtlSeconds: 60, isNotificationEnabled: false, deviceQuotaBytes: 5 })).toEqual({ sasTtlSeconds: 60, isNotificationEnabled: false, deviceQuotaBytes: 5 });
    for (const bad of [null, { sasTtlSeconds: 0 }, { sasTtlSeconds: 86401 }, { deviceQuotaBytes: -1 }, { isNotificationEnabled: 1 }, { other: 1 }]) {
      expect(() => parseFileUploadSettings(bad)).toThrow(HubError);
    }
  });
});
