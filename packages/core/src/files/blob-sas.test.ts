import { describe, expect, test } from 'bun:test';
import { expectHubError } from '../testing/hub-error-assertions.ts';
import { signBlobSas, verifyBlobSas } from './blob-sas.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const scope = { containerName: 'tributary-files', blobName: 'dev1/dir/a b.txt' };
const issue = (overrides: Partial<Parameters<typeof signBlobSas>[0]> = {}) =>
  new URLSearchParams(signBlobSas({ key: KEY, ...scope, permissions: 'rw', expiresAtMs: NOW + 3_600_000, ...overrides }).slice(1));

describe('blob SAS', () => {
  test('a token starts with ? and has the service-SAS fields', () => {
    const token = signBlobSas({ key: KEY, ...scope, permissions: 'rw', expiresAtMs: NOW + 3_600_000 });
    expect(token.startsWith('?sv=2020-10-02&se=2026-06-01T13%3A00%3A00Z&sr=b&sp=rw&sig=')).toBe(true);
  });

  test('the issued token opens its blob for reading and writing until it expires', () => {
    const query = issue();
    expect(verifyBlobSas(query, scope, { key: KEY, nowMs: NOW, permission: 'w' }).expiresAtMs).toBe(NOW + 3_600_000);
    expect(() => verifyBlobSas(query, scope, { key: KEY, nowMs: NOW + 3_599_999, permission: 'r' })).not.toThrow();
  });

  test('an expired token is refused', () => {
    expectHubError(() => verifyBlobSas(issue(), scope, { key: KEY, nowMs: NOW + 3_600_000, permission: 'w' }), 'IotHubUnauthorizedAccess', 'expiry');
  });

  test("another blob's path or container is refused", () => {
    const query = issue();
    expectHubError(() => verifyBlobSas(query, { ...scope, blobName: 'dev1/dir/other.txt' }, { key: KEY, nowMs: NOW, permission: 'w' }), 'IotHubUnauthorizedAccess');
    expectHubError(() => verifyBlobSas(query, { ...scope, blobName: 'dev2/dir/a b.txt' }, { key: KEY, nowMs: NOW, permission: 'w' }), 'IotHubUnauthorizedAccess');
    expectHubError(() => verifyBlobSas(query, { ...scope, containerName: 'other' }, { key: KEY, nowMs: NOW, permission: 'w' }), 'IotHubUnauthorizedAccess');
  });

  test('a tampered signature, expiry or permission is refused', () => {
    const tamperedSig = issue();
    const sig = tamperedSig.get('sig')!;
    tamperedSig.set('sig', (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1));
    expectHubError(() => verifyBlobSas(tamperedSig, scope, { key: KEY, nowMs: NOW, permission: 'r' }), 'IotHubUnauthorizedAccess', 'Signature');
    const longer = issue();
    longer.set('se', '2030-01-01T00:00:00Z');
    expectHubError(() => verifyBlobSas(longer, scope, { key: KEY, nowMs: NOW, permission: 'r' }), 'IotHubUnauthorizedAccess', 'Signature');
    const readOnly = issue({ permissions: 'r' });
    expectHubError(() => verifyBlobSas(readOnly, scope, { key: KEY, nowMs: NOW, permission: 'w' }), 'IotHubUnauthorizedAccess', "'w'");
    readOnly.set('sp', 'rw');
    expectHubError(() => verifyBlobSas(readOnly, scope, { key: KEY, nowMs: NOW, permission: 'w' }), 'IotHubUnauthorizedAccess', 'Signature');
  });

  test('a token signed with another key, or missing fields, is refused', () => {
    const other = new URLSearchParams(signBlobSas({ key: Buffer.alloc(32, 8).toString('base64'), ...scope, permissions: 'rw', expiresAtMs: NOW + 1000 }).slice(1));
    expectHubError(() => verifyBlobSas(other, scope, { key: KEY, nowMs: NOW, permission: 'r' }), 'IotHubUnauthorizedAccess');
    expectHubError(() => verifyBlobSas(new URLSearchParams(), scope, { key: KEY, nowMs: NOW, permission: 'r' }), 'IotHubUnauthorizedAccess');
    const noResource = issue();
    noResource.delete('sr');
    expectHubError(() => verifyBlobSas(noResource, scope, { key: KEY, nowMs: NOW, permission: 'r' }), 'IotHubUnauthorizedAccess');
  });
});
