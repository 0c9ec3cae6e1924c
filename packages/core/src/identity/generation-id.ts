/**
 * generationId: distinguishes incarnations of the same deviceId (delete then re-create). IoT Hub
 * uses an 18-digit decimal string; so do we.
 * @module
 */

import { randomInt } from 'node:crypto';

export function createGenerationId(nowMs: number): string {
  // Milliseconds (13 digits) then 5 random digits: unique per incarnation, sortable by creation.
  return `${nowMs}${String(randomInt(0, 100_000)).padStart(5, '0')}`;
}
