import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileUploadService, silentLogger } from '@tributary/core';
import { createMemoryFileStore, createMemoryStores, FakeClock } from '@tributary/core/testing';
import { blobStorageRoutes, parseBlockList, parseRange } from './blob-routes.ts';
import { FilesystemBlobStore } from './fs-blob-store.ts';

const md5 = (bytes: Uint8Array | string) => createHash('md5').update(bytes).digest('base64');
const blockId = (n: number) => Buffer.from(`block-${String(n).padStart(6, '0')}`).toString('base64');

describe('blob storage routes', () => {
  let root: string;
  let clock: FakeClock;
  let files: FileUploadService;
  let app: ReturnType<typeof blobStorageRoutes>;
  let blobs: FilesystemBlobStore;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tributary-blobs-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });
  beforeEach(async () => {
    clock = new FakeClock(Date.UTC(2026, 5, 1, 12));
    blobs = new FilesystemBlobStore(join(root, crypto.randomUUID()));
    files = new FileUploadService({
      store: createMemoryFileStore(),
      blobs,
      settings: createMemoryStores().settings,
      hostName: 'hub.test',
      clock,
      logger: silentLogger,
      options: { deviceQuotaBytes: 1000 },
    });
    app = blobStorageRoutes({ files, logger: silentLogger });
  });

  const url = (blobName: string, sas: string, extra = '') => `https://hub.test/tributary-files/${blobName.split('/').map(encodeURIComponent).join('/')}${sas}${extra}`;

  test('Put Block and Put Block List store the blocks in order; Get Blob, ranges and HEAD read them back', async () => {
    const issued = await files.initiate('dev1', 'dir/a file.txt');
    const parts = ['hello ', 'blob ', 'world'];
    for (const [i, part] of parts.entries()) {
      const response = await app.request(url(issued.blobName, issued.sasToken, `&comp=block&blockid=${encodeURIComponent(blockId(i))}`), {
        method: 'PUT',
        body: part,
        headers: { 'content-length': String(part.length), 'x-ms-version': '2020-10-02' },
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('content-md5')).toBe(md5(part));
      expect(response.headers.get('x-ms-request-server-encrypted')).toBe('true');
      expect(response.headers.get('x-ms-request-id')).toBeTruthy();
      expect(response.headers.get('x-ms-version')).toBe('2020-10-02');
    }
    const list = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><BlockList>${[0, 1, 2].map((i) => `<Latest>${blockId(i)}</Latest>`).join('')}</BlockList>`;
    const commit = await app.request(url(issued.blobName, issued.sasToken, '&comp=blocklist'), {
      method: 'PUT',
      body: list,
      headers: { 'x-ms-blob-content-type': 'text/plain' },
    });
    expect(commit.status).toBe(201);
    const etag = commit.headers.get('etag');
    expect(etag).toMatch(/^"0x/);
    expect(commit.headers.get('last-modified')).toBe(new Date(clock.now()).toUTCString());

    const get = await app.request(url(issued.blobName, issued.sasToken));
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('hello blob world');
    expect(get.headers.get('content-md5')).toBe(md5('hello blob world'));
    expect(get.headers.get('content-type')).toBe('text/plain');
    expect(get.headers.get('etag')).toBe(etag);
    expect(get.headers.get('x-ms-blob-type')).toBe('BlockBlob');

    const ranged = await app.request(url(issued.blobName, issued.sasToken), { headers: { 'x-ms-range': 'bytes=6-9' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe('bytes 6-9/16');
    expect(await ranged.text()).toBe('blob');

    const head = await app.request(url(issued.blobName, issued.sasToken), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('16');
    expect(await blobs.usageBytes('dev1')).toBe(16);
  });

  test('Put Blob stores the body and answers its MD5', async () => {
    const issued = await files.initiate('dev1', 'one.bin');
    const response = await app.request(url(issued.blobName, issued.sasToken), {
      method: 'PUT',
      body: 'single shot',
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'application/x-test' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('content-md5')).toBe(md5('single shot'));
    const get = await app.request(url(issued.blobName, issued.sasToken));
    expect(get.headers.get('content-type')).toBe('application/x-test');
    expect(await get.text()).toBe('single shot');
  });

  test('a tampered, expired or other-blob SAS is refused with 403 AuthenticationFailed in XML', async () => {
    const issued = await files.initiate('dev1', 'a.txt');
    const tampered = issued.sasToken.replace(/sig=([^&])/, (_, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    const other = await files.initiate('dev1', 'b.txt');
    const attempts = [url(issued.blobName, tampered), url(other.blobName, issued.sasToken), url(issued.blobName, '')];
    for (const target of attempts) {
      const response = await app.request(target, { method: 'PUT', body: 'x', headers: { 'x-ms-blob-type': 'BlockBlob' } });
      expect(response.status).toBe(403);
      expect(response.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
      expect(await response.text()).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?><Error><Code>AuthenticationFailed<\/Code><Message>/);
    }
    clock.advance(3_600_000);
    const expired = await app.request(url(issued.blobName, issued.sasToken));
    expect(expired.status).toBe(403);
    const head = await app.request(url(issued.blobName, issued.sasToken), { method: 'HEAD' });
    expect(head.status).toBe(403);
    expect(head.headers.get('x-ms-error-code')).toBe('AuthenticationFailed');
  });

  test('a block past the quota is refused with 413 and the staged blocks are gone', async () => {
    const issued = await files.initiate('dev1', 'big.bin');
    const put = (n: number, size: number) =>
      app.request(url(issued.blobName, issued.sasToken, `&comp=block&blockid=${encodeURIComponent(blockId(n))}`), {
        method: 'PUT',
        body: new Uint8Array(size),
        headers: { 'content-length': String(size) },
      });
    expect((await put(0, 600)).status).toBe(201);
    const refused = await put(1, 600);
    expect(refused.status).toBe(413);
    expect(refused.headers.get('x-ms-error-code')).toBe('DeviceFileQuotaExceeded');
    expect(await blobs.usageBytes('dev1')).toBe(0);
  });

  test('a missing blob is 404 BlobNotFound; an unknown block in the list is 400 InvalidBlockList', async () => {
    const issued = await files.initiate('dev1', 'none.bin');
    const missing = await app.request(url(issued.blobName, issued.sasToken));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-ms-error-code')).toBe('BlobNotFound');
    const commit = await app.request(url(issued.blobName, issued.sasToken, '&comp=blocklist'), {
      method: 'PUT',
      body: `<BlockList><Latest>${blockId(9)}</Latest></BlockList>`,
    });
    expect(commit.status).toBe(400);
    expect(commit.headers.get('x-ms-error-code')).toBe('InvalidBlockList');
  });

  test('block lists and ranges parse as storage-blob sends them', () => {
    expect(parseBlockList('<?xml version="1.0"?><BlockList><Latest>a</Latest><Uncommitted>b</Uncommitted></BlockList>')).toEqual(['a', 'b']);
    expect(parseBlockList('<Nope/>')).toBeUndefined();
    expect(parseRange('bytes=0-', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBe('invalid');
    expect(parseRange(undefined, 10)).toBeUndefined();
  });
});
