import { createMemoryStores } from './memory-stores.ts';
import { storeContract } from './store-contract.ts';

storeContract('memory', async () => ({ stores: createMemoryStores(), close: async () => {} }));
