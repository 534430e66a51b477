/**
 * Cache actions: what the sink (and the binlog relay) ask Redis to do for one cache key. Versions
 * are aggregate versions from the outbox (DESIGN.md §2): integers in [1, 2^63-1], carried as bigint
 * so they never lose precision.
 */
export type CacheAction =
  /** Store a tombstone at `version` unless the key already holds a version >= `version`. */
  | { readonly kind: 'invalidate'; readonly key: string; readonly version: bigint }
  /** Store the entry (`version`, `value`) unless the key already holds a version >= `version`. */
  | { readonly kind: 'upsert'; readonly key: string; readonly version: bigint; readonly value: Buffer }
  /** Store "known absent" at `version` unless the key already holds a version >= `version`. */
  | { readonly kind: 'delete'; readonly key: string; readonly version: bigint }
  /** For derived keys without a per-aggregate version: drop the entry and revoke every lease. */
  | { readonly kind: 'revoke-leases'; readonly key: string };

/** What applying one action did: changed the key, or found an equal or newer version there. */
export type ApplyOutcome = 'applied' | 'stale';

/** Applies cache actions to Redis atomically per key; implemented over the guard's Lua scripts. */
export interface CacheWriter {
  /**
   * Applies `actions` (any keys, any order, already coalesced or not) and returns one outcome per
   * action, in the same order. Rejects with a retriable error when Redis is unreachable; then no
   * action may be assumed applied, and re-applying all of them is safe (idempotent by version).
   */
  applyBatch(actions: readonly CacheAction[]): Promise<ApplyOutcome[]>;
}
