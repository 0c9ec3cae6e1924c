/** Which ack mode earns which feedback, and IoT Hub's feedback batch body. */

import { describe, expect, test } from 'bun:test';
import type { C2dAck } from './c2d-message.ts';
import { FEEDBACK_STATUS_CODES, feedbackBatchBody, feedbackFor, wantsFeedback } from './feedback.ts';

describe('wantsFeedback', () => {
  const table: Record<C2dAck, string> = {
    none: '',
    positive: 'Success',
    negative: 'Expired DeliveryCountExceeded Rejected Purged',
    full: 'Success Expired DeliveryCountExceeded Rejected Purged',
  };
  test.each(Object.entries(table))('ack %s asks for: %s', (ack, expected) => {
    const wanted = FEEDBACK_STATUS_CODES.filter((statusCode) => wantsFeedback(ack as C2dAck, statusCode));
    expect(wanted.join(' ')).toBe(expected);
  });
});

describe('feedbackFor', () => {
  const message = { messageId: 'm-1', deviceId: 'dev1', deviceGenerationId: '638000000000000001', ack: 'full' as const };

  test('a record names the original message, the device incarnation and the outcome time', () => {
    expect(feedbackFor(message, 'Rejected', 1234)).toEqual({
      originalMessageId: 'm-1',
      deviceId: 'dev1',
      deviceGenerationId: '638000000000000001',
      statusCode: 'Rejected',
      description: 'Message rejected',
      enqueuedTimeUtc: 1234,
    });
    expect(feedbackFor(message, 'Success', 1)?.description).toBe('Success');
  });

  test('none when the ack mode does not ask for the outcome', () => {
    expect(feedbackFor({ ...message, ack: 'positive' }, 'Expired', 1)).toBeUndefined();
  });
});

describe('feedbackBatchBody', () => {
  test('is IoT Hub\u2019s array of records with ISO-8601 enqueued times and no store ids', () => {
    const record = { id: 7, ...feedbackFor({ messageId: 'm', deviceId: 'd', deviceGenerationId: 'g', ack: 'full' }, 'Expired', Date.UTC(2026, 0, 2))! };
    expect(JSON.parse(JSON.stringify(feedbackBatchBody([record])))).toEqual([
      {
        originalMessageId: 'm',
        description: 'Message expired',
        deviceGenerationId: 'g',
        deviceId: 'd',
        enqueuedTimeUtc: '2026-01-02T00:00:00.000Z',
        statusCode: 'Expired',
      },
    ]);
  });
});
