/**
 * Direct methods from the service side: validates the call, finds (or waits up to the connect
 * timeout for) the identity's session listening for methods, and waits for its answer within the
 * response timeout. IoT Hub's rules: response timeout 5–300 s (default 30), connect timeout
 * 0–300 s (default 0), payload up to 128 KB; 404103 DeviceNotOnline, 504101 GatewayTimeout.
 * @module
 */

import { argumentInvalid, deviceNotOnline, messageTooLarge } from '../errors.ts';
import type { JsonValue } from '../identity/types.ts';
import type { MethodResult } from '../session/device-session.ts';
import type { SessionRegistry } from '../session/session-registry.ts';

export const MAX_METHOD_PAYLOAD_BYTES = 128 * 1024;
export const MAX_METHOD_NAME_LENGTH = 100;

export interface MethodInvocation {
  deviceId: string;
  moduleId: string | null;
  methodName: string;
  payload: JsonValue;
  responseTimeoutInSeconds?: number;
  connectTimeoutInSeconds?: number;
}

function checkSeconds(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const seconds = value ?? fallback;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw argumentInvalid(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return seconds;
}

export class MethodInvoker {
  constructor(private readonly sessions: SessionRegistry) {}

  async invoke(call: MethodInvocation): Promise<MethodResult> {
    if (typeof call.methodName !== 'string' || call.methodName.length === 0 || call.methodName.length > MAX_METHOD_NAME_LENGTH) {
      throw argumentInvalid(`methodName is required, a string of 1 to ${MAX_METHOD_NAME_LENGTH} characters`);
    }
    const responseSeconds = checkSeconds('responseTimeoutInSeconds', call.responseTimeoutInSeconds, 30, 5, 300);
    const connectSeconds = checkSeconds('connectTimeoutInSeconds', call.connectTimeoutInSeconds, 0, 0, 300);
    if (new TextEncoder().encode(JSON.stringify(call.payload ?? null)).byteLength > MAX_METHOD_PAYLOAD_BYTES) {
      throw messageTooLarge(MAX_METHOD_PAYLOAD_BYTES);
    }
    const target = { deviceId: call.deviceId, moduleId: call.moduleId };
    const session = await this.sessions.waitForMethods(target, connectSeconds * 1000);
    if (!session) {
      throw deviceNotOnline(call.moduleId === null ? `Device '${call.deviceId}'` : `Module '${call.moduleId}' of device '${call.deviceId}'`);
    }
    return session.invokeMethod(call.methodName, call.payload ?? null, responseSeconds * 1000);
  }
}
