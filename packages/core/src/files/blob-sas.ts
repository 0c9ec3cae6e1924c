/**
 * The blob SAS the hub issues with a file upload and its blob routes verify: a service-SAS-shaped
 * query string (`sv`, `sr=b`, `sp`, `se`, `sig`) signed with HMAC-SHA256 under a hub secret. It
 * is scoped to exactly one blob of one container: the signature covers the canonical resource
 * `/blob/{container}/{blobName}`, so the token of one blob does not open another.
 * @module
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { unauthorizedAccess } from '../errors.ts';

/** The storage service version the SAS names (the one @azure/storage-blob 12.8.0 sends). */
export const BLOB_SAS_VERSION = '2020-10-02';

export type BlobPermission = 'r' | 'w';

export interface BlobSasScope {
  containerName: string;
  blobName: string;
}

export interface SignBlobSasOptions extends BlobSasScope {
  /** Base64 signing key (the hub's file upload secret). */
  key: string;
  /** Subset of `rw`, in that order. */
  permissions: string;
  expiresAtMs: number;
}

/** Azure writes SAS times with second precision: `2026-06-01T12:00:00Z`. */
const sasTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function stringToSign(scope: BlobSasScope, permissions: string, expiry: string, version: string): string {
  return [permissions, expiry, `/blob/${scope.containerName}/${scope.blobName}`, version, 'b'].join('\n');
}

function sign(key: string, text: string): Buffer {
  return createHmac('sha256', Buffer.from(key, 'base64')).update(text, 'utf8').digest();
}

/**
 * The SAS query string, starting with `?` as the device SDK expects.
 * @example signBlobSas({ key, containerName: 'tributary-files', blobName: 'dev1/a.txt', permissions: 'rw', expiresAtMs })
 */
export function signBlobSas(options: SignBlobSasOptions): string {
  const expiry = sasTime(options.expiresAtMs);
  const signature = sign(options.key, stringToSign(options, options.permissions, expiry, BLOB_SAS_VERSION)).toString('base64');
  const query = new URLSearchParams({ sv: BLOB_SAS_VERSION, se: expiry, sr: 'b', sp: options.permissions, sig: signature });
  return `?${query.toString()}`;
}

/**
 * Verifies a request's SAS for `permission` on the blob; throws IotHubUnauthorizedAccess (the
 * blob routes answer 403 AuthenticationFailed) when it is missing, tampered, for another blob,
 * expired or lacks the permission.
 */
export function verifyBlobSas(
  query: URLSearchParams,
  scope: BlobSasScope,
  options: { key: string; nowMs: number; permission: BlobPermission },
): { expiresAtMs: number } {
  const [version, expiry, resource, permissions, signature] = ['sv', 'se', 'sr', 'sp', 'sig'].map((name) => query.get(name));
  if (!version || !expiry || !permissions || !signature) {
    throw unauthorizedAccess('Server failed to authenticate the request. The request carries no complete shared access signature.');
  }
  if (resource !== 'b') throw unauthorizedAccess('Signature fields not well formed: sr must be b');
  const expected = sign(options.key, stringToSign(scope, permissions, expiry, version));
  const given = Buffer.from(signature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw unauthorizedAccess('Signature did not match. The signature does not cover this resource, or it was altered.');
  }
  const expiresAtMs = Date.parse(expiry);
  if (!Number.isFinite(expiresAtMs) || expiresAtMs <= options.nowMs) throw unauthorizedAccess('Signed expiry time has passed.');
  if (!permissions.includes(options.permission)) {
    throw unauthorizedAccess(`The shared access signature does not grant the '${options.permission}' permission.`);
  }
  return { expiresAtMs };
}
