#!/usr/bin/env bun
/**
 * `postinstall`: builds the PGlite template for the committed migrations (src/pglite-template.ts),
 * so even the first hub on a fresh data dir starts from a copy. Never fails the install: without
 * a template the first hub to need one builds it.
 *
 *   bun scripts/build-pglite-template.ts
 */

import { ensurePgliteTemplate } from '../src/pglite-template.ts';

try {
  const template = await ensurePgliteTemplate();
  console.log(template ? `PGlite template: ${template}` : 'PGlite template: cache directory not writable, skipped');
} catch (error) {
  console.warn(`PGlite template not built (the first hub on a fresh data dir builds it): ${error}`);
}
