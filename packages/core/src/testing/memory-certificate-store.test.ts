import { certificateStoreContract } from './certificate-store-contract.ts';
import { createMemoryCertificateStore } from './memory-certificate-store.ts';

certificateStoreContract('memory', async () => ({ store: createMemoryCertificateStore(), close: async () => {} }));
