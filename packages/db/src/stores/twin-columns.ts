/**
 * A twin's state as the twin columns of a devices or modules row (schema/columns.ts twinColumns),
 * as the registry store writes them on insert (the twin store's batched update names the same
 * columns in SQL).
 * @module
 */

import type { TwinState } from '@tributary/core';

export const twinColumnsOf = (twin: TwinState) => ({
  tags: twin.tags,
  desired: twin.desired,
  reported: twin.reported,
  desiredMetadata: twin.desiredMetadata,
  reportedMetadata: twin.reportedMetadata,
  desiredVersion: twin.desiredVersion,
  reportedVersion: twin.reportedVersion,
  twinVersion: twin.version,
});
