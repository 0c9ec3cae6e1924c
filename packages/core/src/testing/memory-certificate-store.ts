/**
 * The CA certificate store in memory, for authenticator and route tests. It passes the same
 * contract suite as the database store (`certificate-store-contract.ts`).
 * @module
 */

import type { CaCertificate, CertificateStore } from '../auth/certificate-store.ts';

const copy = <T>(value: T): T => structuredClone(value);

export class MemoryCertificateStore implements CertificateStore {
  #certificates = new Map<string, CaCertificate>();

  async insert(certificate: CaCertificate) {
    if (this.#certificates.has(certificate.name)) return false;
    this.#certificates.set(certificate.name, copy(certificate));
    return true;
  }

  async get(name: string) {
    const certificate = this.#certificates.get(name);
    return certificate ? copy(certificate) : undefined;
  }

  async list() {
    return [...this.#certificates.values()].map(copy).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async update(certificate: CaCertificate) {
    if (!this.#certificates.has(certificate.name)) return false;
    this.#certificates.set(certificate.name, copy(certificate));
    return true;
  }

  async delete(name: string) {
    return this.#certificates.delete(name);
  }
}

export function createMemoryCertificateStore(): CertificateStore {
  return new MemoryCertificateStore();
}
