/**
 * Blob bytes on the filesystem, under `<HUB_DATA_DIR>/files`:
 *   blobs/<device>/<sha256(blobName)>.data + .json (properties, the blob's name included)
 *   staging/<device>/<sha256(blobName)>/<sha256(blockId)>   (Put Block, until Put Block List)
 * Names are hashed so any blob name (slashes, `a/b` next to `a/b/c`, 1,024 characters) maps to a
 * flat, safe file name; the device directory keeps per-device usage a directory walk. Content is
 * written to a temporary file and renamed, so a reader never sees half a blob.
 * @module
 */

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BlobBodyTooLargeError,
  type BlobBody,
  type BlobContentStore,
  type BlobHttpHeaders,
  type BlobProperties,
  deviceIdOfBlob,
} from '@tributary/core';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A device's directory: its id, percent-encoded (never `.`/`..`), or its hash when long. */
function deviceDir(deviceId: string): string {
  if (deviceId.length > 100) return `h-${sha256(deviceId)}`;
  return `d-${encodeURIComponent(deviceId)}`;
}

async function* chunksOf(body: BlobBody): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) yield body;
  else yield* body;
}

/** Writes `body` to `path`, stopping at `maxBytes`; returns length and base64 MD5. */
async function writeBody(path: string, body: BlobBody, maxBytes: number): Promise<{ length: number; contentMd5: string }> {
  const hash = createHash('md5');
  const sink = Bun.file(path).writer();
  let length = 0;
  try {
    for await (const chunk of chunksOf(body)) {
      length += chunk.byteLength;
      if (length > maxBytes) throw new BlobBodyTooLargeError(maxBytes);
      hash.update(chunk);
      sink.write(chunk);
      await sink.flush();
    }
    await sink.end();
  } catch (error) {
    await Promise.resolve(sink.end()).catch(() => {});
    await rm(path, { force: true });
    throw error;
  }
  return { length, contentMd5: hash.digest('base64') };
}

async function sizeOfTree(path: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const child = join(path, entry.name);
    // Writes in flight (.tmp-*) are counted by the service's reservations instead.
    if (entry.isDirectory()) total += await sizeOfTree(child);
    else if (entry.isFile() && !entry.name.endsWith('.json') && !entry.name.startsWith('.tmp-')) total += (await stat(child).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

export class FilesystemBlobStore implements BlobContentStore {
  #etagCounter = 0;

  /** @param root the files directory, `<HUB_DATA_DIR>/files` */
  constructor(readonly root: string) {}

  #blobPath(blobName: string) {
    const dir = join(this.root, 'blobs', deviceDir(deviceIdOfBlob(blobName)));
    const base = join(dir, sha256(blobName));
    return { dir, data: `${base}.data`, meta: `${base}.json` };
  }

  #stagingDir(blobName: string) {
    return join(this.root, 'staging', deviceDir(deviceIdOfBlob(blobName)), sha256(blobName));
  }

  async putBlock(blobName: string, blockId: string, body: BlobBody, maxBytes: number) {
    const dir = this.#stagingDir(blobName);
    await mkdir(dir, { recursive: true });
    const temporary = join(dir, `.tmp-${randomUUID()}`);
    const written = await writeBody(temporary, body, maxBytes);
    await rename(temporary, join(dir, sha256(blockId)));
    return written;
  }

  async commitBlocks(blobName: string, blockIds: readonly string[], headers: BlobHttpHeaders, now: number) {
    const staging = this.#stagingDir(blobName);
    const blockPaths = blockIds.map((id) => join(staging, sha256(id)));
    for (const path of new Set(blockPaths)) if (!(await Bun.file(path).exists())) return undefined;
    const { dir, data } = this.#blobPath(blobName);
    await mkdir(dir, { recursive: true });
    const temporary = join(dir, `.tmp-${randomUUID()}`);
    const hash = createHash('md5');
    const sink = Bun.file(temporary).writer();
    let length = 0;
    try {
      for (const path of blockPaths) {
        for await (const chunk of Bun.file(path).stream()) {
          hash.update(chunk);
          sink.write(chunk);
          length += chunk.byteLength;
        }
        await sink.flush();
      }
      await sink.end();
      await rename(temporary, data);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    await rm(staging, { recursive: true, force: true });
    return this.#writeProperties(blobName, length, hash.digest('base64'), headers, now);
  }

  async putBlob(blobName: string, body: BlobBody, headers: BlobHttpHeaders, maxBytes: number, now: number) {
    const { dir, data } = this.#blobPath(blobName);
    await mkdir(dir, { recursive: true });
    const temporary = join(dir, `.tmp-${randomUUID()}`);
    const written = await writeBody(temporary, body, maxBytes);
    await rename(temporary, data);
    await this.deleteStaged(blobName);
    return this.#writeProperties(blobName, written.length, written.contentMd5, headers, now);
  }

  async #writeProperties(blobName: string, length: number, md5: string, headers: BlobHttpHeaders, now: number) {
    const { contentMd5, contentType, ...rest } = headers;
    const previous = await this.getProperties(blobName);
    const properties: BlobProperties = {
      blobName,
      contentLength: length,
      contentType: contentType ?? 'application/octet-stream',
      contentMd5: contentMd5 ?? md5,
      ...rest,
      etag: `"0x8D${now.toString(16).toUpperCase()}${(++this.#etagCounter % 4096).toString(16).toUpperCase().padStart(3, '0')}"`,
      createdAt: previous?.createdAt ?? now,
      lastModified: now,
    };
    const { meta, dir } = this.#blobPath(blobName);
    const temporary = join(dir, `.tmp-${randomUUID()}.json`);
    await writeFile(temporary, JSON.stringify(properties));
    await rename(temporary, meta);
    return properties;
  }

  async getProperties(blobName: string) {
    try {
      return JSON.parse(await readFile(this.#blobPath(blobName).meta, 'utf8')) as BlobProperties;
    } catch {
      return undefined;
    }
  }

  async read(blobName: string, range?: { start: number; end: number }) {
    const file = Bun.file(this.#blobPath(blobName).data);
    if (!(await file.exists())) return undefined;
    return (range ? file.slice(range.start, range.end + 1) : file).stream();
  }

  async list(deviceId: string) {
    const dir = join(this.root, 'blobs', deviceDir(deviceId));
    const names = await readdir(dir).catch(() => [] as string[]);
    const listed: BlobProperties[] = [];
    for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.tmp-'))) {
      try {
        listed.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as BlobProperties);
      } catch {
        // Deleted while listing.
      }
    }
    return listed.sort((a, b) => (a.blobName < b.blobName ? -1 : a.blobName > b.blobName ? 1 : 0));
  }

  async delete(blobName: string) {
    const { meta, data } = this.#blobPath(blobName);
    const existed = await Bun.file(meta).exists();
    await rm(meta, { force: true });
    await rm(data, { force: true });
    await this.deleteStaged(blobName);
    return existed;
  }

  async deleteStaged(blobName: string) {
    await rm(this.#stagingDir(blobName), { recursive: true, force: true });
  }

  async usageBytes(deviceId: string) {
    const dir = deviceDir(deviceId);
    const [blobs, staged] = await Promise.all([sizeOfTree(join(this.root, 'blobs', dir)), sizeOfTree(join(this.root, 'staging', dir))]);
    return blobs + staged;
  }
}
