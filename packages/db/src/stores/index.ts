import type { HubStores } from '@tributary/core';
import type { HubDatabase } from '../database.ts';
import { DrizzleOperatorStore } from './operator-store.ts';
import { DrizzlePolicyStore } from './policy-store.ts';
import { DrizzleRegistryStore } from './registry-store.ts';
import { DrizzleSettingsStore } from './settings-store.ts';

export function createStores(db: HubDatabase): HubStores {
  return {
    registry: new DrizzleRegistryStore(db),
    policies: new DrizzlePolicyStore(db),
    settings: new DrizzleSettingsStore(db),
    operators: new DrizzleOperatorStore(db),
  };
}
