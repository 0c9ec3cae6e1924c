export type { AuthenticatedDevice, AuthMethod } from './device-identity.ts';
export { identityKey, authMethodJson } from './device-identity.ts';
export type { DeviceSink, C2dDelivery, MethodRequest } from './device-sink.ts';
export type { SessionServices, TelemetrySink, DeviceTwins, DeviceMessages, ConnectionStates, C2dOutcome } from './session-services.ts';
export { DeviceSession, DEFAULT_SESSION_OPTIONS, type DeviceSessionOptions, type MethodResult } from './device-session.ts';
export { SessionRegistry, type IdentityTarget, type ConnectionEvent } from './session-registry.ts';
export { ConnectionStateBatches, type ConnectionStateBatchesDeps } from './connection-state-batches.ts';
