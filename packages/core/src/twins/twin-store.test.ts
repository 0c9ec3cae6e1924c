/**
 * The twin store contract on the in-memory stores, so the fake cannot drift from the database.
 */

import { expect, test } from 'bun:test';
import { createMemoryStores } from '../testing/memory-stores.ts';
import { createMemoryTwinStore } from '../testing/memory-twin-store.ts';
import { twinStoreContract } from '../testing/twin-store-contract.ts';

twinStoreContract('memory', async () => {
  const stores = createMemoryStores();
  return { registry: stores.registry, twins: createMemoryTwinStore(stores.registry), close: async () => {} };
});

test('the memory twin store refuses a registry store that is not the memory one', () => {
  const notMemory = { ...createMemoryStores().registry, state: undefined } as never;
  expect(() => createMemoryTwinStore(notMemory)).toThrow(TypeError);
});
