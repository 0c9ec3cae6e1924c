/**
 * The file store contract: one suite every FileStore must pass (memory, PGlite, PostgreSQL).
 * Besides the port's promises it checks the active-upload limit under parallel inserts and that
 * concurrent takers never share a notification. Each test works on devices of its own.
 * @module
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { FileStore } from '../files/file-store.ts';
import type { FileUpload, NewFileNotification } from '../files/file-upload.ts';

export interface OpenedFileStore {
  store: FileStore;
  close(): Promise<void>;
}

let counter = 0;
const uniqueId = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
// Milliseconds included: the databases must keep them.
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 123);
const HOUR_MS = 3_600_000;

function sampleUpload(deviceId: string, overrides: Partial<FileUpload> = {}): FileUpload {
  return {
    correlationId: uniqueId('corr'),
    deviceId,
    blobName: `${deviceId}/dir/file name ✓.bin`,
    createdAt: NOW,
    expiresAt: NOW + HOUR_MS,
    state: 'active',
    completedAt: null,
    statusCode: null,
    statusDescription: null,
    ...overrides,
  };
}

function sampleNotification(deviceId: string, overrides: Partial<NewFileNotification> = {}): NewFileNotification {
  return {
    deviceId,
    blobUri: `https://hub.example/tributary-files/${deviceId}/a.bin`,
    blobName: `${deviceId}/a.bin`,
    lastUpdatedTime: NOW - 5,
    blobSizeInBytes: 5 * 1024 * 1024 * 1024 + 7,
    enqueuedTimeUtc: NOW,
    ...overrides,
  };
}

const completion = { state: 'completed' as const, completedAt: NOW + 10, statusCode: 201, statusDescription: 'ok' };

export function filesStoreContract(name: string, open: () => Promise<OpenedFileStore>): void {
  describe(`file store contract: ${name}`, () => {
    let opened: OpenedFileStore;
    let store: FileStore;
    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });
    afterAll(async () => {
      await opened?.close();
    });

    test('an inserted upload reads back field for field', async () => {
      const upload = sampleUpload(uniqueId('dev'));
      expect(await store.insertUpload(upload, { maxActive: 10, now: NOW })).toBe(true);
      expect(await store.getUpload(upload.correlationId)).toEqual(upload);
      expect(await store.getUpload(uniqueId('ghost'))).toBeUndefined();
    });

    test('inserting past maxActive active uploads is refused; expired and completed ones do not count', async () => {
      const deviceId = uniqueId('dev');
      expect(await store.insertUpload(sampleUpload(deviceId, { expiresAt: NOW }), { maxActive: 2, now: NOW })).toBe(true);
      const done = sampleUpload(deviceId);
      expect(await store.insertUpload(done, { maxActive: 2, now: NOW })).toBe(true);
      await store.completeUpload(done.correlationId, completion);
      expect(await store.insertUpload(sampleUpload(deviceId), { maxActive: 2, now: NOW })).toBe(true);
      expect(await store.insertUpload(sampleUpload(deviceId), { maxActive: 2, now: NOW })).toBe(true);
      expect(await store.countActiveUploads(deviceId, NOW)).toBe(2);
      expect(await store.insertUpload(sampleUpload(deviceId), { maxActive: 2, now: NOW })).toBe(false);
      expect(await store.countActiveUploads(uniqueId('other'), NOW)).toBe(0);
    });

    test('parallel inserts of one device never pass the limit', async () => {
      const deviceId = uniqueId('dev');
      const results = await Promise.all(
        Array.from({ length: 11 }, () => store.insertUpload(sampleUpload(deviceId), { maxActive: 10, now: NOW })),
      );
      expect(results.filter(Boolean).length).toBe(10);
      expect(await store.countActiveUploads(deviceId, NOW)).toBe(10);
    });

    test('completing records the outcome and the notification together, once', async () => {
      const deviceId = uniqueId('dev');
      const upload = sampleUpload(deviceId);
      await store.insertUpload(upload, { maxActive: 10, now: NOW });
      const notification = sampleNotification(deviceId);
      expect(await store.completeUpload(upload.correlationId, completion, notification)).toEqual({ ...upload, ...completion });
      expect(await store.completeUpload(upload.correlationId, completion, notification)).toBeUndefined();
      const listed = await store.listNotifications({ deviceId, limit: 10 });
      expect(listed.length).toBe(1);
      expect(listed[0]).toEqual({ ...notification, id: listed[0]!.id });
      expect(await store.completeUpload(uniqueId('ghost'), completion, notification)).toBeUndefined();
    });

    test('a failed upload completes without a notification', async () => {
      const deviceId = uniqueId('dev');
      const upload = sampleUpload(deviceId);
      await store.insertUpload(upload, { maxActive: 10, now: NOW });
      const failed = { ...completion, state: 'failed' as const, statusCode: 413, statusDescription: 'quota' };
      expect((await store.completeUpload(upload.correlationId, failed))?.state).toBe('failed');
      expect(await store.listNotifications({ deviceId, limit: 10 })).toEqual([]);
    });

    test('concurrent takers never get the same notification; release and delete', async () => {
      const deviceId = uniqueId('dev');
      for (let i = 0; i < 6; i++) {
        const upload = sampleUpload(deviceId);
        await store.insertUpload(upload, { maxActive: 10, now: NOW });
        await store.completeUpload(upload.correlationId, completion, sampleNotification(deviceId, { enqueuedTimeUtc: NOW + i }));
      }
      const ours = new Set((await store.listNotifications({ deviceId, limit: 100 })).map((n) => n.id));
      // Other tests' notifications may be takeable too: take everything, look at ours.
      const batches = await Promise.all([1, 2, 3].map(() => store.takeNotifications(1000, NOW, NOW + 60_000)));
      const taken = batches.flat().map((n) => n.id).filter((id) => ours.has(id));
      expect(taken.length).toBe(6);
      expect(new Set(taken).size).toBe(6);
      expect((await store.takeNotifications(1000, NOW + 1, NOW + 60_000)).filter((n) => ours.has(n.id))).toEqual([]);
      const [first, second, ...rest] = [...ours];
      expect(await store.releaseNotifications([first!])).toBe(1);
      expect((await store.takeNotifications(1000, NOW + 2, NOW + 60_000)).map((n) => n.id)).toContain(first!);
      // A take that ran out is takeable again.
      expect((await store.takeNotifications(1000, NOW + 60_000, NOW + 120_000)).map((n) => n.id)).toContain(second!);
      expect(await store.deleteNotifications([first!, second!, first!])).toBe(2);
      expect(await store.deleteNotifications(rest)).toBe(rest.length);
      expect(await store.listNotifications({ deviceId, limit: 100 })).toEqual([]);
    });

    test('prune removes old uploads and notifications only', async () => {
      const deviceId = uniqueId('dev');
      const old = sampleUpload(deviceId, { createdAt: NOW - 10 * HOUR_MS });
      const fresh = sampleUpload(deviceId);
      await store.insertUpload(old, { maxActive: 10, now: NOW });
      await store.insertUpload(fresh, { maxActive: 10, now: NOW });
      expect(await store.pruneUploads(NOW - 5 * HOUR_MS)).toBeGreaterThanOrEqual(1);
      expect(await store.getUpload(old.correlationId)).toBeUndefined();
      expect(await store.getUpload(fresh.correlationId)).toBeDefined();
      await store.completeUpload(fresh.correlationId, completion, sampleNotification(deviceId, { enqueuedTimeUtc: NOW - 10 * HOUR_MS }));
      expect(await store.pruneNotifications(NOW - 5 * HOUR_MS)).toBeGreaterThanOrEqual(1);
      expect(await store.listNotifications({ deviceId, limit: 10 })).toEqual([]);
    });
  });
}
