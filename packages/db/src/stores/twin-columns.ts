/**
 * A twin's state as the twin columns of a devices or modules row (schema/columns.ts twinColumns):
 * written on insert by the registry store and on update by the twin store.
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
