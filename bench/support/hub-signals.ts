/**
 * Preloaded into every hub the bench starts (`bun --preload`, never into a production hub):
 * - SIGUSR2 runs a full garbage collection, so a scenario reads the hub's RSS with the heap
 *   settled instead of whenever JSC would have collected on its own (about 10 s after load stops);
 * - SIGUSR1 ends the hub at once, its connections still open: with HUB_HEAP_PROFILE_DIR set, Bun
 *   writes the heap profile of that moment instead of the one after a graceful shutdown.
 * @module
 */

process.on('SIGUSR2', () => Bun.gc(true));
process.on('SIGUSR1', () => process.exit(0));
