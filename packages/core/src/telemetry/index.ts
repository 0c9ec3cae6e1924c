/**
 * The telemetry area's public surface: message types, the event stream port and records, the
 * partitioner, consumer group rules, retention and the event pipeline. Re-exported by the
 * package index; test doubles live in `@tributary/core/testing`.
 * @module
 */

export type * from './message.ts';
export { MAX_TELEMETRY_BYTES } from './message.ts';
export type * from './event-stream.ts';
export { DEFAULT_CONSUMER_GROUP, eventSize } from './event-stream.ts';
export type { EventInput } from './event-input.ts';
export { FIELD_STAMP_NAMES, HUB_SET_PROPERTY_NAMES, type StampedFields, stampSystemProperties, withFieldStamps } from './event-input.ts';
export { DEFAULT_PARTITION_COUNT, MAX_PARTITION_COUNT, fnv1a32, partitionFor, validatePartitionCount } from './partitioner.ts';
export { validateConsumerGroupName, validatePartitionId } from './consumer-groups.ts';
export type { RetentionOptions } from './retention.ts';
export {
  DEFAULT_RETENTION_MS,
  MAX_RETENTION_MS,
  DEFAULT_RETENTION_INTERVAL_MS,
  validateRetentionMs,
} from './retention.ts';
export type { EventPipelineDeps, EventListener } from './event-pipeline.ts';
export {
  EventPipeline,
  DEFAULT_MAX_BATCH_EVENTS,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_QUEUED_EVENTS,
} from './event-pipeline.ts';
