/**
 * The cache side of the loop (DESIGN.md §4): Redis entries, tombstones and leases behind a
 * version guard (Lua, atomic per key), the sink's batch writer, and the application's read path.
 */
export type { CacheAction, ApplyOutcome, CacheWriter } from './actions.js';
export { RedisCacheWriter, type RedisCacheWriterOptions } from './redis-cache-writer.js';
export {
  createReadThrough, createReadPath,
  type ReadThrough, type ReadThroughOptions, type ReadPathOptions, type ReadPathLoader, type ReadOptions, type ReadResult,
  type Loaded, type FillOutcome,
} from './read-through.js';
export { createLeaseReadThrough, type LeaseReadThrough, type LeaseReadThroughOptions } from './lease-read-through.js';
export { ReadError } from './read-errors.js';
export { checkLoaded, type CheckedLoad } from './loaded-value.js';
export { CACHE_TTL_DEFAULTS, resolveCacheTtl, type CacheTtlOptions, type ResolvedCacheTtl } from './cache-ttl.js';
export { applyGuard, fillMayApply, sinkMayApply, holdsLease, type GuardOp, type GuardResult } from './guard-rule.js';
export {
  decodeStoredValue, encodeStoredValue, formatVersion, isCanonicalVersion, MAX_VERSION,
  type StoredState, type StoredValue, type StaleBytes,
} from './stored-value.js';
export { guardScriptSource, defineGuardCommands, GUARD_SCRIPTS, type GuardRedis, type GuardScriptName } from './guard-scripts.js';
export { keySlot } from './key-slot.js';
export { DEFAULT_COMMAND_TIMEOUT_MS } from './redis-calls.js';
export type { ReadCodecName } from './read-codec.js';
