export { devices } from './devices.ts';
export { modules } from './modules.ts';
export { sharedAccessPolicies } from './shared-access-policies.ts';
export { hubSettings } from './hub-settings.ts';
export { operators } from './operators.ts';
