/**
 * The CA certificate store contract: one suite every CertificateStore must pass (memory, PGlite,
 * PostgreSQL). The store is opened once per suite; each test uses names of its own.
 * @module
 */

import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { CaCertificate, CertificateStore } from '../auth/certificate-store.ts';

export interface OpenedCertificateStore {
  store: CertificateStore;
  close(): Promise<void>;
}

let counter = 0;
const uniqueName = (label: string) => `${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`;
// Milliseconds included: the databases must keep them.
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 123);

function sampleCertificate(name: string, overrides: Partial<CaCertificate> = {}): CaCertificate {
  return {
    name,
    pem: `-----BEGIN CERTIFICATE-----\nMIIB${name}\n-----END CERTIFICATE-----\n`,
    thumbprint: 'AB'.repeat(32),
    subject: `CN=${name}, O=Tributary Tests`,
    expiry: NOW + 365 * 24 * 3600 * 1000 + 7,
    isVerified: false,
    createdAt: NOW,
    updatedAt: NOW + 1,
    ...overrides,
  };
}

export function certificateStoreContract(name: string, open: () => Promise<OpenedCertificateStore>): void {
  describe(`certificate store contract: ${name}`, () => {
    let opened: OpenedCertificateStore;
    let store: CertificateStore;
    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });
    afterAll(async () => {
      await opened?.close();
    });

    test('an inserted certificate reads back field for field', async () => {
      const certificate = sampleCertificate(uniqueName('roundtrip'), { isVerified: true });
      expect(await store.insert(certificate)).toBe(true);
      expect(await store.get(certificate.name)).toEqual(certificate);
    });

    test('inserting a taken name returns false and keeps the first certificate', async () => {
      const first = sampleCertificate(uniqueName('dup'));
      await store.insert(first);
      expect(await store.insert({ ...first, thumbprint: 'CD'.repeat(32) })).toBe(false);
      expect((await store.get(first.name))?.thumbprint).toBe(first.thumbprint);
    });

    test('names are case-sensitive', async () => {
      const certificate = sampleCertificate(uniqueName('CaseSensitive'));
      await store.insert(certificate);
      expect(await store.get(certificate.name.toLowerCase())).toBeUndefined();
    });

    test('list returns every certificate ordered by name, bytewise', async () => {
      const prefix = uniqueName('order');
      for (const suffix of ['b', 'a', 'B', '_']) await store.insert(sampleCertificate(`${prefix}-${suffix}`));
      const names = (await store.list()).map((c) => c.name).filter((n) => n.startsWith(`${prefix}-`));
      expect(names).toEqual([`${prefix}-B`, `${prefix}-_`, `${prefix}-a`, `${prefix}-b`]);
    });

    test('update replaces the certificate with its name and returns false when there is none', async () => {
      const certificate = sampleCertificate(uniqueName('update'));
      await store.insert(certificate);
      const next = { ...certificate, isVerified: true, updatedAt: NOW + 99, pem: 'replaced' };
      expect(await store.update(next)).toBe(true);
      expect(await store.get(certificate.name)).toEqual(next);
      expect(await store.update(sampleCertificate(uniqueName('ghost')))).toBe(false);
    });

    test('delete removes the certificate once', async () => {
      const certificate = sampleCertificate(uniqueName('delete'));
      await store.insert(certificate);
      expect(await store.delete(certificate.name)).toBe(true);
      expect(await store.get(certificate.name)).toBeUndefined();
      expect(await store.delete(certificate.name)).toBe(false);
    });
  });
}
