/**
 * The identity registry's records: devices and modules with their authentication and the
 * connection bookkeeping IoT Hub reports. Times are epoch milliseconds, `null` when never set.
 * How these look on the wire (REST JSON) is the service API's business, not this file's.
 * @module
 */

export type DeviceStatus = 'enabled' | 'disabled';
export type ConnectionState = 'Connected' | 'Disconnected';
export type AuthenticationType = 'sas' | 'selfSigned' | 'certificateAuthority' | 'none';

export const DEVICE_STATUSES: readonly DeviceStatus[] = ['enabled', 'disabled'];
export const AUTHENTICATION_TYPES: readonly AuthenticationType[] = [
  'sas',
  'selfSigned',
  'certificateAuthority',
  'none',
];

export interface SymmetricKey {
  primaryKey: string | null;
  secondaryKey: string | null;
}

export interface X509Thumbprint {
  primaryThumbprint: string | null;
  secondaryThumbprint: string | null;
}

export interface Authentication {
  type: AuthenticationType;
  symmetricKey: SymmetricKey;
  x509Thumbprint: X509Thumbprint;
}

/** Fields shared by devices and modules. */
export interface IdentityCommon {
  deviceId: string;
  generationId: string;
  /** Incremented on every registry write; the etag is derived from it. */
  etagVersion: number;
  connectionState: ConnectionState;
  connectionStateUpdatedTime: number | null;
  lastActivityTime: number | null;
  cloudToDeviceMessageCount: number;
  authentication: Authentication;
}

export interface Device extends IdentityCommon {
  status: DeviceStatus;
  statusReason: string | null;
  statusUpdatedTime: number | null;
  capabilities: { iotEdge: boolean };
  /** Edge devices own a scope; leaf devices name their parent edge device's scope. */
  deviceScope: string | null;
  parentScopes: string[];
}

export interface Module extends IdentityCommon {
  moduleId: string;
  managedBy: string | null;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * A twin as stored beside its identity. The twin engine (versions, `$metadata`, merge rules)
 * owns how it changes; the registry only creates the initial one.
 */
export interface TwinState {
  tags: JsonObject;
  desired: JsonObject;
  reported: JsonObject;
  desiredMetadata: JsonObject;
  reportedMetadata: JsonObject;
  desiredVersion: number;
  reportedVersion: number;
  /** Total twin version; the twin etag is derived from it. */
  version: number;
}

/** What a caller may set when creating or replacing a device. */
export interface DeviceInput {
  deviceId: string;
  status?: DeviceStatus;
  statusReason?: string | null;
  authentication?: AuthenticationInput;
  capabilities?: { iotEdge?: boolean };
  deviceScope?: string | null;
  parentScopes?: string[];
}

export interface ModuleInput {
  deviceId: string;
  moduleId: string;
  managedBy?: string | null;
  authentication?: AuthenticationInput;
}

export interface AuthenticationInput {
  type?: AuthenticationType;
  symmetricKey?: Partial<SymmetricKey> | null;
  x509Thumbprint?: Partial<X509Thumbprint> | null;
}

export interface RegistryStatistics {
  totalDeviceCount: number;
  enabledDeviceCount: number;
  disabledDeviceCount: number;
}
