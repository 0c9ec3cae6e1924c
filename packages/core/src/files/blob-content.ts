/**
 * The port for blob bytes: committed blobs and the staged (uncommitted) blocks of Put Block, kept
 * per device. The hub implements it on the filesystem under `<HUB_DATA_DIR>/files`; tests use the
 * in-memory one (`testing/memory-file-stores.ts`). It knows nothing of SAS, quotas or devices'
 * limits; `file-upload-service.ts` applies those.
 * @module
 */

/** What a write of blob content may set (the x-ms-blob-* headers). */
export interface BlobHttpHeaders {
  contentType?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  /** Base64 MD5 the client declared for the whole blob (x-ms-blob-content-md5). */
  contentMd5?: string;
}

export interface BlobProperties {
  blobName: string;
  contentLength: number;
  contentType: string;
  /** Base64 MD5 of the content. */
  contentMd5: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  /** Quoted, as sent in the ETag header. */
  etag: string;
  createdAt: number;
  lastModified: number;
}

/** A body to store: a stream whose bytes are counted as they arrive. */
export type BlobBody = ReadableStream<Uint8Array> | Uint8Array;

export class BlobBodyTooLargeError extends Error {
  override readonly name = 'BlobBodyTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`The body is larger than ${maxBytes} bytes`);
  }
}

export interface BlobContentStore {
  /**
   * Stages one block of a blob (replacing a staged block of the same id). Stops, removes what it
   * wrote and throws BlobBodyTooLargeError when the body passes `maxBytes`. Returns the block's
   * length and base64 MD5.
   */
  putBlock(blobName: string, blockId: string, body: BlobBody, maxBytes: number): Promise<{ length: number; contentMd5: string }>;
  /**
   * Commits the listed staged blocks, in order, as the blob's content (replacing it), then drops
   * every staged block of the blob. Returns undefined, committing nothing, when a block is missing.
   */
  commitBlocks(blobName: string, blockIds: readonly string[], headers: BlobHttpHeaders, now: number): Promise<BlobProperties | undefined>;
  /** Writes a whole blob at once (Put Blob), as putBlock about `maxBytes`; drops staged blocks. */
  putBlob(blobName: string, body: BlobBody, headers: BlobHttpHeaders, maxBytes: number, now: number): Promise<BlobProperties>;
  getProperties(blobName: string): Promise<BlobProperties | undefined>;
  /** The content, or the inclusive byte range `[start, end]` of it. */
  read(blobName: string, range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array> | undefined>;
  /** Committed blobs whose names start with `{deviceId}/`, ordered by name. */
  list(deviceId: string): Promise<BlobProperties[]>;
  /** Deletes the blob and its staged blocks; false when there was no committed blob. */
  delete(blobName: string): Promise<boolean>;
  /** Drops the staged blocks of a blob. */
  deleteStaged(blobName: string): Promise<void>;
  /** Bytes the device holds: committed blobs plus staged blocks. */
  usageBytes(deviceId: string): Promise<number>;
}
