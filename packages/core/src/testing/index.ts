/**
 * Test support exported for other packages' tests: in-memory stores, a fake clock and the store
 * contract suite. Never imported by production code.
 * @module
 */

export { createMemoryStores } from './memory-stores.ts';
export { FakeClock } from './fake-clock.ts';
export { storeContract, type OpenedStores } from './store-contract.ts';
export * from './recording-sink.ts';
