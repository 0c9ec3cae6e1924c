/**
 * Test support exported for other packages' tests: in-memory stores, a fake clock and the store
 * contract suite. Never imported by production code.
 * @module
 */

export { createMemoryStores } from './memory-stores.ts';
export { FakeClock } from './fake-clock.ts';
export { Gate } from './gate.ts';
export { storeContract, type OpenedStores } from './store-contract.ts';
export * from './recording-sink.ts';
export { MemoryCertificateStore, createMemoryCertificateStore } from './memory-certificate-store.ts';
export { certificateStoreContract, type OpenedCertificateStore } from './certificate-store-contract.ts';
export { issueTestCertificate, generateTestKeys, type TestCertificate, type TestCertificateOptions } from './test-certificates.ts';
export { createMemoryTwinStore } from './memory-twin-store.ts';
export { twinStoreContract, type OpenedTwinStores } from './twin-store-contract.ts';
export { createMemoryC2dStore, MemoryC2dStore } from './memory-c2d-store.ts';
export { c2dStoreContract, type OpenedC2dStores } from './c2d-store-contract.ts';
export { MemoryEventStore } from './memory-event-store.ts';
export { eventStoreContract, type OpenedEventStore } from './event-store-contract.ts';
export { MemoryFileStore, MemoryBlobContentStore, createMemoryFileStore } from './memory-file-stores.ts';
export { filesStoreContract, type OpenedFileStore } from './files-store-contract.ts';
