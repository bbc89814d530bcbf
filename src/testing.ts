// Test helpers for adapter authors and users (`weft/testing`): the storage conformance suite.
export { describeStorageConformance } from './storage/conformance/index.js';
export type { StorageFactory, StorageHarness } from './storage/conformance/index.js';
