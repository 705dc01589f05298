// Importing this module loads classic-level's native binding; code that must start without it
// (`--data-dir none`) imports './memory-store.js' directly and './level-store.js' with `await import()`.
export type { DurableStore, StoredMessage, StoredSession, StoredState, StoredSubscription, StoredWill } from './durable-store.js';
export { LevelStore, type LevelStoreOptions } from './level-store.js';
export type { LoadReport } from './level-load.js';
export { MemoryStore } from './memory-store.js';
export { StoreError, type StoreErrorCode } from './store-error.js';
