/**
 * The CA certificate record and the store port for it. packages/db implements the port on
 * PGlite and PostgreSQL, `testing/memory-certificate-store.ts` in memory; all pass
 * `testing/certificate-store-contract.ts`. The store is dumb: the rules live in ca-certificates.ts.
 * @module
 */

/** A CA certificate registered with the hub, trusted for `certificateAuthority` identities once verified. */
export interface CaCertificate {
  /** 1–64 ASCII letters, digits and `-_.`; unique, case-sensitive. */
  name: string;
  /** The certificate as one PEM block. */
  pem: string;
  /** SHA-256 of the DER, 64 uppercase hex digits. */
  thumbprint: string;
  /** The subject for display, `CN=…, O=…`. */
  subject: string;
  /** notAfter, epoch milliseconds. */
  expiry: number;
  /** Only verified CAs authenticate devices. */
  isVerified: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the last change (verification, replacement). */
  updatedAt: number;
}

export interface CertificateStore {
  /** False when the name is taken. */
  insert(certificate: CaCertificate): Promise<boolean>;
  get(name: string): Promise<CaCertificate | undefined>;
  /** All certificates ordered by name (a hub holds few: IoT Hub allows 25). */
  list(): Promise<CaCertificate[]>;
  /** Replaces the certificate with this name; false when there is none. */
  update(certificate: CaCertificate): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}
