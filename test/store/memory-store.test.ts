import { MemoryStore } from '../../src/store/memory-store.js';
import { storeContract } from './contract.js';

// One instance per directory: reopening the same instance is how a MemoryStore "restarts".
const stores = new Map<string, MemoryStore>();
storeContract('MemoryStore', (dir) => {
  let store = stores.get(dir);
  if (!store) stores.set(dir, (store = new MemoryStore()));
  return store;
});
