/**
 * What the service API's handlers get from the composition root, typed once for Hono.
 * @module
 */

import type { IdentityRegistry, Logger, PolicyAuthenticator, ServicePrincipal } from '@tributary/core';

export interface ServiceApiDeps {
  registry: IdentityRegistry;
  authenticator: PolicyAuthenticator;
  logger: Logger;
}

export interface ServiceApiEnv {
  Variables: {
    principal: ServicePrincipal;
  };
}
