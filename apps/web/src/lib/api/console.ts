// Typed calls for the console API's own resources: overview, throughput and operators.
// Login, logout and the session live in session.svelte.ts.
import { hubFetch, hubJson, segment } from './hub.ts';
import type { HubOverview, Operator, OperatorRole, Throughput } from './types.ts';

export function getOverview(signal?: AbortSignal): Promise<HubOverview> {
  return hubJson<HubOverview>('/console/api/overview', { signal });
}

/** Committed D2C messages per second over the last `seconds`, oldest first. */
export function getThroughput(seconds: number, signal?: AbortSignal): Promise<Throughput> {
  return hubJson<Throughput>(`/console/api/throughput?seconds=${seconds}`, { signal });
}

export async function listOperators(): Promise<Operator[]> {
  return (await hubJson<{ value: Operator[] }>('/console/api/operators')).value;
}

export function addOperator(username: string, password: string, role: OperatorRole): Promise<Operator> {
  return hubJson<Operator>('/console/api/operators', { method: 'POST', json: { username, password, role } });
}

export async function removeOperator(username: string): Promise<void> {
  await hubFetch(`/console/api/operators/${segment(username)}`, { method: 'DELETE' });
}

export async function changePassword(username: string, password: string): Promise<void> {
  await hubFetch(`/console/api/operators/${segment(username)}/password`, { method: 'PUT', json: { password } });
}
