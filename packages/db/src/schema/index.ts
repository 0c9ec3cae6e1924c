export { devices } from './devices.ts';
export { modules } from './modules.ts';
export { sharedAccessPolicies } from './shared-access-policies.ts';
export { hubSettings } from './hub-settings.ts';
export { operators } from './operators.ts';
export { caCertificates } from './ca-certificates.ts';
export { events, eventPartitionHeads, consumerGroups, checkpoints } from './event-stream.ts';
export { c2dMessages, c2dFeedback } from './cloud-to-device.ts';
export { fileUploads, fileNotifications } from './files.ts';
