/**
 * Rules for consumer group names and checkpoints of the event stream, shared by every front end
 * (REST now, the Event Hub-compatible AMQP endpoint later). Storage is the EventStore's.
 * @module
 */

import { argumentInvalid } from '../errors.ts';
import { DEFAULT_CONSUMER_GROUP } from './event-stream.ts';

/** Event Hubs allows 1–50 characters: letters, digits, period, hyphen and underscore. */
const CONSUMER_GROUP_NAME = /^[A-Za-z0-9._-]{1,50}$/;

/** Returns `name` when it is `$Default` or 1–50 of `A-Z a-z 0-9 . _ -`; ArgumentInvalid otherwise. */
export function validateConsumerGroupName(name: string): string {
  if (name === DEFAULT_CONSUMER_GROUP || CONSUMER_GROUP_NAME.test(name)) return name;
  throw argumentInvalid(
    `Consumer group name '${name.slice(0, 60)}' is not valid: use 1 to 50 letters, digits, '.', '_' or '-'`,
  );
}

/** Returns `partitionId` when it names one of `partitionCount` partitions; ArgumentInvalid otherwise. */
export function validatePartitionId(partitionId: number, partitionCount: number): number {
  if (!Number.isInteger(partitionId) || partitionId < 0 || partitionId >= partitionCount) {
    throw argumentInvalid(`partitionId must be an integer from 0 to ${partitionCount - 1}, got ${partitionId}`);
  }
  return partitionId;
}
