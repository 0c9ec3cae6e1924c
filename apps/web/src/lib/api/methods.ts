// Direct method invocation through the service REST API (`POST /twins/{id}[/modules/{m}]/methods`).
import { hubJson } from './hub.ts';
import type { MethodResult } from './types.ts';

export interface MethodInvocation {
  methodName: string;
  payload: unknown;
  responseTimeoutInSeconds: number;
  connectTimeoutInSeconds: number;
}

/** Invokes a method on the twin at `twinPath` (see twins.ts); DeviceNotOnline and GatewayTimeout come back as HubApiError. */
export function invokeMethod(twinPath: string, invocation: MethodInvocation): Promise<MethodResult> {
  return hubJson<MethodResult>(`${twinPath}/methods`, { method: 'POST', json: invocation });
}
