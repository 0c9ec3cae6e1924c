import type { HubStores } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { DrizzleConsoleSessionStore } from './console-session-store.ts';
import { DrizzleOperatorStore } from './operator-store.ts';
import { DrizzlePolicyStore } from './policy-store.ts';
import { DrizzleRegistryStore } from './registry-store.ts';
import { DrizzleSettingsStore } from './settings-store.ts';
import { DrizzleCertificateStore } from './certificate-store.ts';
import { DrizzleTwinStore } from './twin-store.ts';
import { DrizzleC2dStore } from './c2d-store.ts';
import { DrizzleEventStore } from './event-store.ts';
import { DrizzleFileStore } from './file-store.ts';

export function createStores(db: HubDatabase): HubStores {
  return {
    registry: new DrizzleRegistryStore(db),
    policies: new DrizzlePolicyStore(db),
    settings: new DrizzleSettingsStore(db),
    operators: new DrizzleOperatorStore(db),
    consoleSessions: new DrizzleConsoleSessionStore(db),
    certificates: new DrizzleCertificateStore(db),
    twins: new DrizzleTwinStore(db),
    c2d: new DrizzleC2dStore(db),
    events: new DrizzleEventStore(db),
    files: new DrizzleFileStore(db),
  };
}
