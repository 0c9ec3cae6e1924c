// Typed calls for device identities: the console's server-side search and the IoT Hub registry
// REST API (create, enable/disable, delete, regenerate keys, bulk import). Owns URLs, methods and
// headers; not paging, debouncing or presentation.
import { hubFetch, hubJson, segment } from './hub.ts';
import type {
  Authentication,
  BulkRegistryOperationResult,
  ConnectionState,
  Device,
  DevicePage,
  DeviceSortField,
  DeviceStatus,
  ExportImportDevice,
  RegenerateKey,
  SortOrder,
} from './types.ts';

/** One page request of the device list. Empty filters mean "all". */
export interface DeviceQuery {
  search: string;
  status: DeviceStatus | '';
  connectionState: ConnectionState | '';
  sort: DeviceSortField;
  order: SortOrder;
  offset: number;
  limit: number;
}

/**
 * The query string of `GET /console/api/devices` for `query`, leaving out empty filters.
 * @example deviceQueryString({ search: ' th ', status: '', connectionState: 'Connected', sort: 'deviceId', order: 'asc', offset: 0, limit: 50 })
 * // 'search=th&connectionState=Connected&sort=deviceId&order=asc&offset=0&limit=50'
 */
export function deviceQueryString(query: DeviceQuery): string {
  const params = new URLSearchParams();
  const search = query.search.trim();
  if (search) params.set('search', search);
  if (query.status) params.set('status', query.status);
  if (query.connectionState) params.set('connectionState', query.connectionState);
  params.set('sort', query.sort);
  params.set('order', query.order);
  params.set('offset', String(Math.max(0, Math.floor(query.offset))));
  params.set('limit', String(query.limit));
  return params.toString();
}

export function listDevices(query: DeviceQuery, signal?: AbortSignal): Promise<DevicePage> {
  return hubJson<DevicePage>(`/console/api/devices?${deviceQueryString(query)}`, { signal });
}

/** Creates a device; empty SAS keys ask the hub to generate them. */
export function createDevice(deviceId: string, authentication: Authentication, status: DeviceStatus): Promise<Device> {
  return hubJson<Device>(`/devices/${segment(deviceId)}`, { method: 'PUT', json: { deviceId, status, authentication } });
}

/** Enables or disables `device`; fails with PreconditionFailed when someone changed it meanwhile. */
export function setDeviceStatus(device: Device, status: DeviceStatus): Promise<Device> {
  return hubJson<Device>(`/devices/${segment(device.deviceId)}`, {
    method: 'PUT',
    json: { ...device, status },
    headers: { 'if-match': device.etag },
  });
}

export async function deleteDevice(deviceId: string): Promise<void> {
  await hubFetch(`/devices/${segment(deviceId)}`, { method: 'DELETE', headers: { 'if-match': '*' } });
}

export function regenerateKeys(deviceId: string, regenerateKey: RegenerateKey): Promise<Device> {
  return hubJson<Device>(`/devices/${segment(deviceId)}/regenerateKeys`, { method: 'POST', json: { regenerateKey } });
}

/** One bulk registry call; the hub takes at most 100 devices per call. */
export function importDevices(devices: ExportImportDevice[]): Promise<BulkRegistryOperationResult> {
  return hubJson<BulkRegistryOperationResult>('/devices', { method: 'POST', json: devices });
}

export function getDevice(deviceId: string, signal?: AbortSignal): Promise<Device> {
  return hubJson<Device>(`/devices/${segment(deviceId)}`, { signal });
}
