/**
 * Delivery feedback for cloud-to-device messages: which outcomes produce a record under which
 * `iothub-ack` mode, the record itself, and IoT Hub's feedback batch body (azure-wire-protocol.md
 * §8) that the service AMQP feedback receiver (`/messages/serviceBound/feedback`) will send.
 * Storing and handing out records is the queue's and the store's business.
 * @module
 */

import { type C2dAck, C2D_ACKS, type CloudToDeviceMessage } from './c2d-message.ts';

/** IoT Hub's `FeedbackStatusCode` names. */
export type FeedbackStatusCode = 'Success' | 'Expired' | 'DeliveryCountExceeded' | 'Rejected' | 'Purged';
export const FEEDBACK_STATUS_CODES: readonly FeedbackStatusCode[] = [
  'Success',
  'Expired',
  'DeliveryCountExceeded',
  'Rejected',
  'Purged',
];

/** One feedback record; field names follow IoT Hub's batch JSON, times are epoch milliseconds. */
export interface FeedbackRecord {
  /** Store-assigned, increasing; what `acknowledgeFeedback` / `abandonFeedback` take. */
  id: number;
  originalMessageId: string;
  deviceId: string;
  deviceGenerationId: string;
  statusCode: FeedbackStatusCode;
  description: string;
  /** When the outcome happened (completed, rejected, expired, dead-lettered, purged). */
  enqueuedTimeUtc: number;
}

export type NewFeedbackRecord = Omit<FeedbackRecord, 'id'>;

/** The content type of a feedback batch message (§8). */
export const FEEDBACK_CONTENT_TYPE = 'application/vnd.microsoft.iothub.feedback.json';
/** IoT Hub batches at most 64 records into one feedback message (§8). */
export const MAX_FEEDBACK_BATCH = 64;

const DESCRIPTIONS: Record<FeedbackStatusCode, string> = {
  Success: 'Success',
  Expired: 'Message expired',
  DeliveryCountExceeded: 'Delivery count exceeded',
  Rejected: 'Message rejected',
  Purged: 'Message purged',
};

/**
 * `positive` asks for the success outcome only, `negative` for every failure outcome, `full` for
 * both (IoT Hub "message feedback"). Purged counts as a failure: the device never got the message.
 */
export function wantsFeedback(ack: C2dAck, statusCode: FeedbackStatusCode): boolean {
  if (ack === 'full') return true;
  return statusCode === 'Success' ? ack === 'positive' : ack === 'negative';
}

/**
 * Feedback for one outcome at one moment, for every message it applies to: the record's fields
 * and the ack modes that want it. Stores record it for removed messages in the removing step.
 */
export interface FeedbackOutcome {
  statusCode: FeedbackStatusCode;
  description: string;
  enqueuedTimeUtc: number;
  /** The `iothub-ack` modes that ask for this outcome. */
  acks: readonly C2dAck[];
}

export function feedbackOutcome(statusCode: FeedbackStatusCode, nowMs: number): FeedbackOutcome {
  return {
    statusCode,
    description: DESCRIPTIONS[statusCode],
    enqueuedTimeUtc: nowMs,
    acks: C2D_ACKS.filter((ack) => wantsFeedback(ack, statusCode)),
  };
}

/** The record `message` earns with `statusCode` at `nowMs`, or undefined when its ack mode wants none. */
export function feedbackFor(
  message: Pick<CloudToDeviceMessage, 'messageId' | 'deviceId' | 'deviceGenerationId' | 'ack'>,
  statusCode: FeedbackStatusCode,
  nowMs: number,
): NewFeedbackRecord | undefined {
  if (!wantsFeedback(message.ack, statusCode)) return undefined;
  const { acks: _, ...outcome } = feedbackOutcome(statusCode, nowMs);
  return {
    originalMessageId: message.messageId,
    deviceId: message.deviceId,
    deviceGenerationId: message.deviceGenerationId,
    ...outcome,
  };
}

/** One element of IoT Hub's feedback batch body. */
export interface FeedbackBatchEntry {
  originalMessageId: string;
  description: string;
  deviceGenerationId: string;
  deviceId: string;
  enqueuedTimeUtc: string;
  statusCode: FeedbackStatusCode;
}

/** The body of a feedback message: a JSON array of records with ISO-8601 times. */
export function feedbackBatchBody(records: readonly FeedbackRecord[]): FeedbackBatchEntry[] {
  return records.map((record) => ({
    originalMessageId: record.originalMessageId,
    description: record.description,
    deviceGenerationId: record.deviceGenerationId,
    deviceId: record.deviceId,
    enqueuedTimeUtc: new Date(record.enqueuedTimeUtc).toISOString(),
    statusCode: record.statusCode,
  }));
}
