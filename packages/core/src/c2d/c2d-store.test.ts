/** The C2D store contract on the in-memory store (PGlite and PostgreSQL run it in packages/db). */

import { c2dStoreContract } from '../testing/c2d-store-contract.ts';
import { createMemoryC2dStore } from '../testing/memory-c2d-store.ts';
import { createMemoryStores } from '../testing/memory-stores.ts';

c2dStoreContract('memory', async () => {
  const { registry } = createMemoryStores();
  return { c2d: createMemoryC2dStore(registry), registry, close: async () => {} };
});
