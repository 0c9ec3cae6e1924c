/**
 * What the service API's handlers get from the composition root, typed once for Hono.
 * @module
 */

import type {
  CaCertificateService,
  CloudToDeviceQueue,
  EventPipeline,
  EventStore,
  FileUploadService,
  IdentityRegistry,
  Logger,
  MethodInvoker,
  PolicyAuthenticator,
  ServicePrincipal,
  TwinService,
} from '@tributary/core';
import type { ServiceAuthenticator } from './auth.ts';

export interface ServiceApiDeps {
  registry: IdentityRegistry;
  authenticator: ServiceAuthenticator;
  logger: Logger;
  twins: TwinService;
  c2d: CloudToDeviceQueue;
  methods: MethodInvoker;
  caCertificates: CaCertificateService;
  files: FileUploadService;
  events: { pipeline: EventPipeline; store: EventStore; partitionCount: number };
}

export interface ServiceApiEnv {
  Variables: {
    principal: ServicePrincipal;
  };
}
