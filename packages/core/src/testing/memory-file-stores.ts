/**
 * File upload's two ports in memory: upload records and notifications (FileStore, passing
 * `files-store-contract.ts` like the database store) and blob bytes (BlobContentStore, the
 * filesystem store's stand-in for service tests).
 * @module
 */

import { createHash } from 'node:crypto';
import {
  BlobBodyTooLargeError,
  type BlobBody,
  type BlobContentStore,
  type BlobHttpHeaders,
  type BlobProperties,
} from '../files/blob-content.ts';
import type { FileStore, FileUploadCompletion } from '../files/file-store.ts';
import type { FileNotification, FileUpload, NewFileNotification } from '../files/file-upload.ts';

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryFileStore implements FileStore {
  readonly #uploads = new Map<string, FileUpload>();
  readonly #notifications = new Map<number, FileNotification & { lockedUntil: number | null }>();
  #nextId = 1;

  async insertUpload(upload: FileUpload, limit: { maxActive: number; now: number }) {
    if (this.#uploads.has(upload.correlationId)) return false;
    if (this.#countActive(upload.deviceId, limit.now) >= limit.maxActive) return false;
    this.#uploads.set(upload.correlationId, copy(upload));
    return true;
  }

  async getUpload(correlationId: string) {
    const upload = this.#uploads.get(correlationId);
    return upload ? copy(upload) : undefined;
  }

  async countActiveUploads(deviceId: string, now: number) {
    return this.#countActive(deviceId, now);
  }

  #countActive(deviceId: string, now: number): number {
    let count = 0;
    for (const upload of this.#uploads.values()) {
      if (upload.deviceId === deviceId && upload.state === 'active' && upload.expiresAt > now) count++;
    }
    return count;
  }

  async completeUpload(correlationId: string, completion: FileUploadCompletion, notification?: NewFileNotification) {
    const upload = this.#uploads.get(correlationId);
    if (!upload || upload.state !== 'active') return undefined;
    Object.assign(upload, completion);
    if (notification) {
      const id = this.#nextId++;
      this.#notifications.set(id, { ...copy(notification), id, lockedUntil: null });
    }
    return copy(upload);
  }

  async pruneUploads(createdBefore: number) {
    let count = 0;
    for (const [id, upload] of this.#uploads) {
      if (upload.createdAt < createdBefore && this.#uploads.delete(id)) count++;
    }
    return count;
  }

  #public(record: FileNotification & { lockedUntil: number | null }): FileNotification {
    const { lockedUntil: _, ...notification } = record;
    return copy(notification);
  }

  async listNotifications(query: { deviceId?: string; limit: number }) {
    return [...this.#notifications.values()]
      .filter((n) => query.deviceId === undefined || n.deviceId === query.deviceId)
      .sort((a, b) => a.id - b.id)
      .slice(0, query.limit)
      .map((n) => this.#public(n));
  }

  async takeNotifications(max: number, now: number, lockedUntil: number) {
    const taken = [...this.#notifications.values()]
      .filter((n) => n.lockedUntil === null || n.lockedUntil <= now)
      .sort((a, b) => a.id - b.id)
      .slice(0, max);
    for (const record of taken) record.lockedUntil = lockedUntil;
    return taken.map((n) => this.#public(n));
  }

  async deleteNotifications(ids: readonly number[]) {
    return [...new Set(ids)].filter((id) => this.#notifications.delete(id)).length;
  }

  async releaseNotifications(ids: readonly number[]) {
    let count = 0;
    for (const id of new Set(ids)) {
      const record = this.#notifications.get(id);
      if (record) {
        record.lockedUntil = null;
        count++;
      }
    }
    return count;
  }

  async pruneNotifications(enqueuedBefore: number) {
    let count = 0;
    for (const [id, record] of this.#notifications) {
      if (record.enqueuedTimeUtc < enqueuedBefore && this.#notifications.delete(id)) count++;
    }
    return count;
  }
}

export function createMemoryFileStore(): FileStore {
  return new MemoryFileStore();
}

async function readBody(body: BlobBody, maxBytes: number): Promise<Uint8Array> {
  if (body instanceof Uint8Array) {
    if (body.byteLength > maxBytes) throw new BlobBodyTooLargeError(maxBytes);
    return body.slice();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new BlobBodyTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
const deviceOf = (blobName: string) => blobName.slice(0, Math.max(blobName.indexOf('/'), 0));

/** Blob bytes in memory (committed blobs and staged blocks), for service and route tests. */
export class MemoryBlobContentStore implements BlobContentStore {
  readonly #blobs = new Map<string, { properties: BlobProperties; content: Uint8Array }>();
  readonly #staged = new Map<string, Map<string, Uint8Array>>();
  #etagCounter = 0;

  async putBlock(blobName: string, blockId: string, body: BlobBody, maxBytes: number) {
    const bytes = await readBody(body, maxBytes);
    const blocks = this.#staged.get(blobName) ?? new Map<string, Uint8Array>();
    blocks.set(blockId, bytes);
    this.#staged.set(blobName, blocks);
    return { length: bytes.byteLength, contentMd5: md5(bytes) };
  }

  async commitBlocks(blobName: string, blockIds: readonly string[], headers: BlobHttpHeaders, now: number) {
    const blocks = this.#staged.get(blobName) ?? new Map<string, Uint8Array>();
    if (!blockIds.every((id) => blocks.has(id))) return undefined;
    const content = Buffer.concat(blockIds.map((id) => blocks.get(id)!));
    this.#staged.delete(blobName);
    return this.#store(blobName, content, headers, now);
  }

  async putBlob(blobName: string, body: BlobBody, headers: BlobHttpHeaders, maxBytes: number, now: number) {
    const content = await readBody(body, maxBytes);
    this.#staged.delete(blobName);
    return this.#store(blobName, content, headers, now);
  }

  #store(blobName: string, content: Uint8Array, headers: BlobHttpHeaders, now: number): BlobProperties {
    const { contentMd5: declaredMd5, contentType, ...rest } = headers;
    const properties: BlobProperties = {
      blobName,
      contentLength: content.byteLength,
      contentType: contentType ?? 'application/octet-stream',
      contentMd5: declaredMd5 ?? md5(content),
      ...rest,
      etag: `"0x8D${(++this.#etagCounter).toString(16).toUpperCase().padStart(13, '0')}"`,
      createdAt: this.#blobs.get(blobName)?.properties.createdAt ?? now,
      lastModified: now,
    };
    this.#blobs.set(blobName, { properties, content });
    return copy(properties);
  }

  async getProperties(blobName: string) {
    const blob = this.#blobs.get(blobName);
    return blob ? copy(blob.properties) : undefined;
  }

  async read(blobName: string, range?: { start: number; end: number }) {
    const blob = this.#blobs.get(blobName);
    if (!blob) return undefined;
    const bytes = range ? blob.content.slice(range.start, range.end + 1) : blob.content.slice();
    return new Response(bytes).body!;
  }

  async list(deviceId: string) {
    return [...this.#blobs.values()]
      .filter((blob) => deviceOf(blob.properties.blobName) === deviceId)
      .map((blob) => copy(blob.properties))
      .sort((a, b) => (a.blobName < b.blobName ? -1 : a.blobName > b.blobName ? 1 : 0));
  }

  async delete(blobName: string) {
    this.#staged.delete(blobName);
    return this.#blobs.delete(blobName);
  }

  async deleteStaged(blobName: string) {
    this.#staged.delete(blobName);
  }

  async usageBytes(deviceId: string) {
    let total = 0;
    for (const blob of this.#blobs.values()) if (deviceOf(blob.properties.blobName) === deviceId) total += blob.content.byteLength;
    for (const [blobName, blocks] of this.#staged) {
      if (deviceOf(blobName) === deviceId) for (const block of blocks.values()) total += block.byteLength;
    }
    return total;
  }

  /** Test helper: staged block ids of a blob. */
  stagedBlockIds(blobName: string): string[] {
    return [...(this.#staged.get(blobName)?.keys() ?? [])];
  }
}
