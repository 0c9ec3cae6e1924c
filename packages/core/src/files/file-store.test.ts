/** The file store contract on the in-memory store (PGlite and PostgreSQL run it in packages/db). */

import { filesStoreContract } from '../testing/files-store-contract.ts';
import { createMemoryFileStore } from '../testing/memory-file-stores.ts';

filesStoreContract('memory', async () => ({ store: createMemoryFileStore(), close: async () => {} }));
