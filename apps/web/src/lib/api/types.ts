// The shapes the console reads from the hub: IoT Hub's REST representations (devices, twins,
// modules, C2D messages, events) and the console API's own (session, operators, overview,
// throughput, device search). Names and fields are the hub's; nothing here is computed.

export type DeviceStatus = 'enabled' | 'disabled';
export type ConnectionState = 'Connected' | 'Disconnected';
export type OperatorRole = 'admin' | 'viewer';

export interface Authentication {
  type: 'sas' | 'selfSigned' | 'certificateAuthority' | 'none';
  symmetricKey?: { primaryKey: string | null; secondaryKey: string | null };
  x509Thumbprint?: { primaryThumbprint: string | null; secondaryThumbprint: string | null };
}

/** `GET /devices/{id}`. Times are ISO-8601; `0001-01-01T00:00:00Z` means never. */
export interface Device {
  deviceId: string;
  generationId: string;
  etag: string;
  connectionState: ConnectionState;
  status: DeviceStatus;
  statusReason: string | null;
  connectionStateUpdatedTime: string;
  statusUpdatedTime: string;
  lastActivityTime: string;
  cloudToDeviceMessageCount: number;
  authentication: Authentication;
  capabilities: { iotEdge: boolean };
}

/** `GET /devices/{id}/modules` elements. */
export interface Module {
  moduleId: string;
  deviceId: string;
  etag: string;
  connectionState: ConnectionState;
  lastActivityTime: string;
  authentication: Authentication;
  managedBy?: string;
}

type JsonObject = { [key: string]: unknown };

/** `GET /twins/{id}` (and `/twins/{id}/modules/{moduleId}`). Update with PATCH and `If-Match: <etag>`. */
export interface Twin {
  deviceId: string;
  moduleId?: string;
  etag: string;
  version: number;
  status: DeviceStatus;
  connectionState: ConnectionState;
  tags: JsonObject;
  properties: { desired: JsonObject & { $version: number }; reported: JsonObject & { $version: number } };
}

/** `GET /devices/{id}/commands`: the C2D queue, oldest first. */
export interface CloudToDeviceMessage {
  messageId: string;
  sequenceNumber: number;
  correlationId: string | null;
  userId: string | null;
  to: string | null;
  contentType: string | null;
  contentEncoding: string | null;
  ack: string;
  enqueuedTimeUtc: string;
  expiryTimeUtc: string;
  deliveryCount: number;
  /** When the current delivery's lock ends; null when not locked. */
  lockedUntilUtc: string | null;
  /** application properties */
  properties: Record<string, string>;
  /** base64 */
  body: string;
  bodySizeInBytes: number;
}

/** `iothub-ack` of a C2D send: which delivery outcomes come back as feedback. */
export type C2dAck = 'none' | 'positive' | 'negative' | 'full';

/** `POST /twins/{id}/methods`: the device's own status and response payload. */
export interface MethodResult {
  status: number;
  payload: unknown;
}

/** One event of the built-in stream (`/events/live` WebSocket messages, `GET /events/partitions/{n}`). */
export interface StreamedEvent {
  partitionId: string;
  sequenceNumber: number;
  offset: string;
  enqueuedTimeUtc: string;
  deviceId: string;
  moduleId: string | null;
  systemProperties: Record<string, string>;
  properties: Record<string, string>;
  /** base64 */
  body: string;
  /** present when the body is UTF-8 */
  bodyText?: string;
}

/** `GET /console/api/session`, and the answer to a login. */
export interface ConsoleSession {
  username: string;
  role: OperatorRole;
  /** epoch ms; the session slides forward while it is used */
  expiresAt: number;
}

export interface Operator {
  username: string;
  role: OperatorRole;
  /** epoch ms */
  createdAt: number;
}

/** `GET /console/api/overview`. `connectionStrings` is null for viewers. */
export interface HubOverview {
  hostName: string;
  version: string;
  database: 'pglite' | 'postgres';
  ports: { https: number; http: number; mqtts: number; amqps: number; mqtt?: number; amqp?: number };
  connectionStrings: { service: string; eventHubCompatible: string } | null;
  counts: { devices: number; connected: number; messagesToday: number };
}

/** `GET /console/api/throughput`: committed device-to-cloud messages per second, oldest first. */
export interface Throughput {
  points: { t: number; count: number }[];
}

/** `GET /console/api/devices`. */
export interface DevicePage {
  total: number;
  value: Device[];
}

/** Sort keys and filters of `GET /console/api/devices`. */
export type DeviceSortField = 'deviceId' | 'status' | 'connectionState' | 'lastActivityTime';
export type SortOrder = 'asc' | 'desc';

/** `POST /devices/{id}/regenerateKeys` body value. */
export type RegenerateKey = 'primary' | 'secondary' | 'both' | 'swap';

/** One element of a bulk `POST /devices` body (IoT Hub's ExportImportDevice). */
export interface ExportImportDevice {
  id: string;
  importMode: 'create' | 'update' | 'delete';
  status?: DeviceStatus;
  authentication?: Authentication;
}

/** The answer to a bulk `POST /devices`; devices not listed in `errors` succeeded. */
export interface BulkRegistryOperationResult {
  isSuccessful: boolean;
  errors: { deviceId: string; errorCode: string; errorStatus: string }[];
  warnings: { deviceId: string; warningCode: string; warningStatus: string }[];
}
