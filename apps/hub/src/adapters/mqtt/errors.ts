/**
 * The MQTT adapter's one error mapper: HubError → CONNACK return code at connect time, and →
 * the twin response status with the JSON body the SDK needs (`{"errorCode":…,"message":…}`:
 * it ignores the status segment and only sees an error when the body has `errorCode`, digest §4.5).
 * Anything else closes the connection.
 * @module
 */

import type { HubError } from '@tributary/core';

export const CONNACK_ACCEPTED = 0;
export const CONNACK_UNACCEPTABLE_PROTOCOL = 1;
export const CONNACK_SERVER_UNAVAILABLE = 3;
export const CONNACK_NOT_AUTHORIZED = 5;

/**
 * 5 for every authentication or identity failure (the SDK raises UnauthorizedError and does not
 * retry); 3 when the hub itself failed (the SDK retries).
 */
export function connackCodeFor(error: HubError): number {
  return error.status >= 500 ? CONNACK_SERVER_UNAVAILABLE : CONNACK_NOT_AUTHORIZED;
}

export function twinErrorResponse(error: HubError): { status: number; body: string } {
  return { status: error.status, body: JSON.stringify({ errorCode: error.numericCode, message: error.message }) };
}
