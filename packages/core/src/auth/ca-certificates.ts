/**
 * The hub's registered CA certificates: adding (parsed, must be a CA, not expired), listing,
 * deleting, verifying, and registering one from configuration at start. Azure manages these
 * through ARM with a proof-of-possession step; this hub exposes them on its data-plane API and
 * treats verification as an explicit operator action instead (see `verify`). Which devices a CA
 * authenticates is device-authenticator.ts's business.
 * @module
 */

import type { X509Certificate } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { argumentInvalid, HubError, notFound } from '../errors.ts';
import type { CaCertificate, CertificateStore } from './certificate-store.ts';
import { certificateDersFromText, parseDerCertificate, subjectText, thumbprintsOf, toPem, validityOf } from './x509.ts';

/** ARM's rule for certificate names: 1–64 ASCII letters, digits, `-`, `_` and `.`. */
export const CA_CERTIFICATE_NAME_PATTERN = /^[A-Za-z0-9\-_.]{1,64}$/;

/** A certificate is a few KB; anything this large is not one. */
export const MAX_CERTIFICATE_TEXT_LENGTH = 64 * 1024;

export interface CaCertificateServiceDeps {
  store: CertificateStore;
  clock: Clock;
}

/** What `ensure` did: registered a new CA, replaced or verified an existing one, or nothing. */
export type EnsureOutcome = 'created' | 'updated' | 'unchanged';

/** IoT Hub has no public code for a taken certificate name; 409000 is its generic conflict. */
export const certificateAlreadyExists = (name: string) =>
  new HubError('GenericConflict', `A CA certificate named '${name}' is already registered`);
const certificateNotFound = (name: string) => notFound(`CA certificate '${name}'`);

/** Returns the name when valid, throws ArgumentInvalid otherwise. */
export function validateCertificateName(name: unknown): string {
  if (typeof name !== 'string' || !CA_CERTIFICATE_NAME_PATTERN.test(name)) {
    throw argumentInvalid('The certificate name must be 1 to 64 ASCII letters, digits, hyphens, underscores or periods');
  }
  return name;
}

/**
 * Parses the text of one CA certificate (PEM, or base64 DER as ARM accepts) and checks that it is
 * a CA (basicConstraints CA:true) that has not expired at `nowMs`. Throws ArgumentInvalid naming
 * the problem.
 */
export function parseCaCertificate(text: unknown, nowMs: number): { certificate: X509Certificate; pem: string } {
  if (typeof text !== 'string' || text.trim() === '') throw argumentInvalid('The certificate is required, as PEM text');
  if (text.length > MAX_CERTIFICATE_TEXT_LENGTH) {
    throw argumentInvalid(`The certificate text is longer than ${MAX_CERTIFICATE_TEXT_LENGTH} characters`);
  }
  const ders = certificateDersFromText(text);
  if (ders.length === 0) throw argumentInvalid('The certificate is not PEM text (-----BEGIN CERTIFICATE-----)');
  if (ders.length > 1) throw argumentInvalid('The certificate text holds more than one certificate: register each CA under its own name');
  const certificate = parseDerCertificate(ders[0]!);
  if (!certificate) throw argumentInvalid('The certificate could not be parsed as an X.509 certificate');
  if (!certificate.ca) throw argumentInvalid('The certificate is not a CA certificate (basicConstraints CA:true is missing)');
  if (validityOf(certificate).notAfterMs < nowMs) {
    throw argumentInvalid(`The certificate expired on ${certificate.validToDate.toISOString()}`);
  }
  return { certificate, pem: toPem(certificate) };
}

export class CaCertificateService {
  readonly #store: CertificateStore;
  readonly #clock: Clock;

  constructor({ store, clock }: CaCertificateServiceDeps) {
    this.#store = store;
    this.#clock = clock;
  }

  /**
   * Registers a CA certificate under `name`; 409 GenericConflict when the name is taken.
   * @example await certificates.add('root', pemText, { isVerified: true })
   */
  async add(name: string, pem: string, { isVerified = false }: { isVerified?: boolean } = {}): Promise<CaCertificate> {
    const record = this.#record(validateCertificateName(name), pem, isVerified);
    if (!(await this.#store.insert(record))) throw certificateAlreadyExists(name);
    return record;
  }

  async get(name: string): Promise<CaCertificate> {
    const record = await this.#store.get(validateCertificateName(name));
    if (!record) throw certificateNotFound(name);
    return record;
  }

  async list(): Promise<CaCertificate[]> {
    return this.#store.list();
  }

  async delete(name: string): Promise<void> {
    if (!(await this.#store.delete(validateCertificateName(name)))) throw certificateNotFound(name);
  }

  /**
   * Marks the CA verified, so it authenticates `certificateAuthority` devices. Azure asks for
   * proof of possession (a verification certificate signed with the CA's key); here the
   * operator's authorised call (RegistryWrite) is the proof, as the operator controls the hub.
   */
  async verify(name: string): Promise<CaCertificate> {
    const current = await this.get(name);
    if (current.isVerified) return current;
    const next = { ...current, isVerified: true, updatedAt: this.#clock.now() };
    if (!(await this.#store.update(next))) throw certificateNotFound(name);
    return next;
  }

  /**
   * Makes `name` hold exactly this CA, verified: the way the hub registers CAs from its
   * configuration at every start (e.g. the e2e suite's `IOTHUB_CA_ROOT_CERT`). Idempotent; a
   * different certificate under the name is replaced, as configuration is the source of truth.
   */
  async ensure(name: string, pem: string): Promise<{ certificate: CaCertificate; outcome: EnsureOutcome }> {
    const wanted = this.#record(validateCertificateName(name), pem, true);
    // A concurrent add or delete of the same name makes a write miss; look again a few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.#store.get(name);
      if (!current) {
        if (await this.#store.insert(wanted)) return { certificate: wanted, outcome: 'created' };
        continue;
      }
      if (current.thumbprint === wanted.thumbprint && current.isVerified) return { certificate: current, outcome: 'unchanged' };
      const next = { ...wanted, createdAt: current.createdAt };
      if (await this.#store.update(next)) return { certificate: next, outcome: 'updated' };
    }
    throw certificateAlreadyExists(name);
  }

  #record(name: string, pem: string, isVerified: boolean): CaCertificate {
    const now = this.#clock.now();
    const parsed = parseCaCertificate(pem, now);
    return {
      name,
      pem: parsed.pem,
      thumbprint: thumbprintsOf(parsed.certificate).sha256,
      subject: subjectText(parsed.certificate),
      expiry: validityOf(parsed.certificate).notAfterMs,
      isVerified,
      createdAt: now,
      updatedAt: now,
    };
  }
}
