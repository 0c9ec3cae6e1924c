/**
 * The service's feedback receiver (our sender on `/messages/serviceBound/feedback`, digest §8):
 * C2D delivery feedback leaves core's queue in batches of at most 64 records, one message per
 * batch (IoT Hub's feedback JSON). The pump and the disposition rules are record-sender.ts's.
 * @module
 */

import { MAX_FEEDBACK_BATCH } from '@tributary/core';
import type { Sender } from 'rhea';
import type { AmqpAdapterDeps } from '../deps.ts';
import { feedbackBatchToAmqp } from '../message-mapping.ts';
import { openRecordSender } from './record-sender.ts';

/** The service attached its feedback receiver: waiting feedback goes out on `sender`. */
export function openFeedbackSender(sender: Sender, deps: AmqpAdapterDeps): void {
  openRecordSender(
    sender,
    {
      name: 'feedback',
      async take() {
        const records = await deps.c2d.takeFeedback(MAX_FEEDBACK_BATCH);
        if (records.length === 0) return undefined;
        return { message: feedbackBatchToAmqp(records, deps.eventHubName), ids: records.map((record) => record.id) };
      },
      accept: (ids) => deps.c2d.acknowledgeFeedback(ids),
      drop: (ids) => deps.c2d.acknowledgeFeedback(ids),
      release: (ids) => deps.c2d.abandonFeedback(ids),
      onNew: (listener) => deps.onFeedbackRecorded(listener),
    },
    deps,
  );
}
