/**
 * CA certificates on the data plane (Azure manages them through ARM, `…/IotHubs/{hub}/certificates`):
 * `GET /certificates` → `{"value":[…]}`, `GET/PUT/DELETE /certificates/{name}`,
 * `POST /certificates/{name}/verify`. Reads need RegistryRead, writes RegistryWrite.
 *
 * PUT body: `{"certificate":"<PEM>","isVerified":false}` (ARM's `{"properties":{…}}` wrapper is
 * accepted too); it creates, 409 GenericConflict when the name is taken (delete first to replace).
 * A certificate reads back with ARM's property names, times in ISO 8601:
 * `{"name","subject","thumbprint"(SHA-256),"expiry","isVerified","created","updated","certificate"}`.
 * `verify` takes no proof of possession: the operator's RegistryWrite call is the proof.
 * @module
 */

import { Hono } from 'hono';
import { argumentInvalid, type CaCertificate, type CaCertificateService,  } from '@tributary/core';
import { requirePermission, type ServiceAuthenticator } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { ServiceApiEnv } from '../context.ts';
import { objectAt, optionalBoolean, optionalObjectAt, optionalString } from '../representation/fields.ts';
import { allowOnly, jsonResponse } from '../respond.ts';

export interface CertificateRoutesDeps {
  certificates: CaCertificateService;
  authenticator: ServiceAuthenticator;
}

export function caCertificateJson(record: CaCertificate) {
  return {
    name: record.name,
    subject: record.subject,
    thumbprint: record.thumbprint,
    expiry: new Date(record.expiry).toISOString(),
    isVerified: record.isVerified,
    created: new Date(record.createdAt).toISOString(),
    updated: new Date(record.updatedAt).toISOString(),
    certificate: record.pem,
  };
}

/** The PUT body, flat or in ARM's `properties` wrapper. */
export function parseCertificateBody(body: unknown): { certificate: string; isVerified: boolean } {
  const outer = objectAt(body, 'The request body');
  const fields = optionalObjectAt(outer, 'properties', 'request') ?? outer;
  const path = fields === outer ? 'request' : 'request.properties';
  const certificate = optionalString(fields, 'certificate', path);
  if (certificate === undefined) throw argumentInvalid(`${path}.certificate is required: the CA certificate as PEM text`);
  return { certificate, isVerified: optionalBoolean(fields, 'isVerified', path) ?? false };
}

export function certificateRoutes({ certificates, authenticator }: CertificateRoutesDeps) {
  const read = requirePermission(authenticator, 'RegistryRead');
  const write = requirePermission(authenticator, 'RegistryWrite');

  return new Hono<ServiceApiEnv>({ strict: false })
    .get('/', read, async (c) => jsonResponse(c, { value: (await certificates.list()).map(caCertificateJson) }))
    .all('/', allowOnly('GET'))
    .get('/:name', read, async (c) => jsonResponse(c, caCertificateJson(await certificates.get(c.req.param('name')))))
    .put('/:name', write, async (c) => {
      const { certificate, isVerified } = parseCertificateBody(await readJsonBody(c));
      const record = await certificates.add(c.req.param('name'), certificate, { isVerified });
      return jsonResponse(c, caCertificateJson(record), { status: 201 });
    })
    .delete('/:name', write, async (c) => {
      await certificates.delete(c.req.param('name'));
      return c.body(null, 204);
    })
    .all('/:name', allowOnly('GET', 'PUT', 'DELETE'))
    .post('/:name/verify', write, async (c) => {
      // ARM's verify body carries a proof-of-possession certificate; it is read (to honour limits) and ignored.
      await readJsonBody(c, { isOptional: true });
      return jsonResponse(c, caCertificateJson(await certificates.verify(c.req.param('name'))));
    })
    .all('/:name/verify', allowOnly('POST'));
}
