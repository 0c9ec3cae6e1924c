/**
 * CertificateStore on drizzle.
 * @module
 */

import { asc, eq } from 'drizzle-orm';
import type { CaCertificate, CertificateStore } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { caCertificates } from '../schema/ca-certificates.ts';

export class DrizzleCertificateStore implements CertificateStore {
  constructor(private readonly db: HubDatabase) {}

  async insert(certificate: CaCertificate): Promise<boolean> {
    const inserted = await this.db
      .insert(caCertificates)
      .values(certificate)
      .onConflictDoNothing()
      .returning({ name: caCertificates.name });
    return inserted.length === 1;
  }

  async get(name: string): Promise<CaCertificate | undefined> {
    const [row] = await this.db.select().from(caCertificates).where(eq(caCertificates.name, name));
    return row;
  }

  async list(): Promise<CaCertificate[]> {
    return this.db.select().from(caCertificates).orderBy(asc(caCertificates.name));
  }

  async update(certificate: CaCertificate): Promise<boolean> {
    const { name, ...fields } = certificate;
    const updated = await this.db
      .update(caCertificates)
      .set(fields)
      .where(eq(caCertificates.name, name))
      .returning({ name: caCertificates.name });
    return updated.length === 1;
  }

  async delete(name: string): Promise<boolean> {
    const deleted = await this.db
      .delete(caCertificates)
      .where(eq(caCertificates.name, name))
      .returning({ name: caCertificates.name });
    return deleted.length === 1;
  }
}
