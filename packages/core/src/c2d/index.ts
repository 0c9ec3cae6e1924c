/**
 * Cloud-to-device messaging: the message model, the queue service, feedback and the store port.
 * core's index re-exports this barrel.
 * @module
 */

export type {
  C2dAck,
  C2dSystemProperties,
  CloudToDeviceMessage,
  CloudToDeviceMessageInput,
  LockedCloudToDeviceMessage,
  NewCloudToDeviceMessage,
  PreparedCloudToDeviceMessage,
  ExpiryLimits,
} from './c2d-message.ts';
export {
  ACK_PROPERTY,
  C2D_ACKS,
  MAX_C2D_MESSAGE_BYTES,
  MAX_MESSAGE_ID_LENGTH,
  deviceBoundAddress,
  expiryTimeOf,
  messageLockLost,
  messageSizeBytes,
  parseAck,
  prepareCloudToDeviceMessage,
  queueDepthExceeded,
} from './c2d-message.ts';
export type { C2dDeviceQueue, C2dStore, DeviceLock, DeviceQueueResult, EnqueueResult, LockRequest, RemovedMessage } from './c2d-store.ts';
export type { C2dNotifier, C2dSettlement, CloudToDeviceOptions, CloudToDeviceQueueDeps, ExpiryResult } from './c2d-queue.ts';
export { CloudToDeviceQueue, DEFAULT_C2D_OPTIONS, parseC2dOptions } from './c2d-queue.ts';
export type { FeedbackBatchEntry, FeedbackOutcome, FeedbackRecord, FeedbackStatusCode, NewFeedbackRecord } from './feedback.ts';
export {
  FEEDBACK_CONTENT_TYPE,
  FEEDBACK_STATUS_CODES,
  MAX_FEEDBACK_BATCH,
  feedbackBatchBody,
  feedbackFor,
  feedbackOutcome,
  wantsFeedback,
} from './feedback.ts';
