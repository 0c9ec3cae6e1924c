import { eventStoreContract } from './event-store-contract.ts';
import { MemoryEventStore } from './memory-event-store.ts';

eventStoreContract('memory', async () => ({ store: new MemoryEventStore(), close: async () => {} }));
