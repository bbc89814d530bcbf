// Runs the storage conformance suite against MemoryStorage.
import { describeStorageConformance } from '../conformance/index.js';
import { MemoryStorage } from './memory-storage.js';

describeStorageConformance('memory', async () => {
  const storage = new MemoryStorage();
  return { storage, cleanup: () => storage.close() };
});
