// Test helpers for adapter authors and users (`weft/testing`): the storage conformance suite and a manual clock.
export { describeStorageConformance } from './storage/conformance/index.js';
export type { StorageFactory, StorageHarness } from './storage/conformance/index.js';
export { createManualClock } from './testing/manual-clock.js';
export type { ManualClock } from './testing/manual-clock.js';
