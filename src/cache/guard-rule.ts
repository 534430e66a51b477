/**
 * The version guard (DESIGN.md §4) as a pure function: the same rule the Lua scripts in `lua/`
 * apply atomically in Redis, kept here for reasoning and tests. One table of cases
 * (test/cache/guard-cases.ts) runs against both, so they cannot drift. TTLs are not modelled.
 */
import type { StoredValue } from './stored-value.js';

/** One operation on one cache key, from the sink or from a reader. Versions are in [0, 2^63-1]. */
export type GuardOp =
  /** Sink: tombstone at `version` unless the key holds a version >= `version`. */
  | { readonly kind: 'invalidate'; readonly version: bigint }
  /** Sink: entry (`version`, `value`) unless the key holds a version >= `version`. */
  | { readonly kind: 'upsert'; readonly version: bigint; readonly value: Buffer }
  /** Sink: known absent at `version` unless the key holds a version >= `version`. */
  | { readonly kind: 'delete'; readonly version: bigint }
  /** Sink: drop the key, revoking every lease (keys without a per-aggregate version). */
  | { readonly kind: 'revoke-leases' }
  /**
   * Reader that read `version` from the database: stores the entry (`value`), or known absent
   * when `value` is null, unless an entry/absent at v >= `version` or a tombstone at
   * v > `version` is there. The read-age rule is {@link readTooOld}.
   */
  | { readonly kind: 'fill'; readonly version: bigint; readonly value: Buffer | null }
  /** Reader of a lease-managed key: stores `value` (null: known absent) if the key holds lease `token`. */
  | { readonly kind: 'fill-lease'; readonly token: string; readonly value: Buffer | null };

/** Result of {@link applyGuard}: whether the op changed the key, and the key's state afterwards. */
export interface GuardResult {
  /** `applied`: the key changed; `stale`: refused (equal or newer state, or lease not held). */
  readonly outcome: 'applied' | 'stale';
  /** State after the op; undefined = key missing. */
  readonly next: StoredValue | undefined;
}

const EMPTY = Buffer.alloc(0);

/** Sink rule: only a strictly higher version than the stored one (missing = none) applies. */
export function sinkMayApply(stored: StoredValue | undefined, version: bigint): boolean {
  return stored === undefined || stored.version < version;
}

/** Fill rule: an entry/absent at v >= V or a tombstone at v > V refuses; a lease or nothing allows. */
export function fillMayApply(stored: StoredValue | undefined, version: bigint): boolean {
  if (stored === undefined || stored.state === 'lease') return true;
  if (stored.state === 'tombstone') return stored.version <= version;
  return stored.version < version;
}

/**
 * A reader whose database read began `readStartedAtMs` must not fill at `nowMs` when more than
 * `maxReadAgeMs` (the tombstone TTL) has passed: the tombstone that would refuse it may be gone.
 * All three in milliseconds on the same clock (the fill script uses Redis's).
 */
export function readTooOld(readStartedAtMs: number, nowMs: number, maxReadAgeMs: number): boolean {
  return nowMs - readStartedAtMs > maxReadAgeMs;
}

/** Applies `op` to the state `stored` (undefined = key missing) and returns the outcome and new state. */
export function applyGuard(stored: StoredValue | undefined, op: GuardOp): GuardResult {
  const stale: GuardResult = { outcome: 'stale', next: stored };
  switch (op.kind) {
    case 'revoke-leases':
      return { outcome: 'applied', next: undefined };
    case 'invalidate':
      return sinkMayApply(stored, op.version)
        ? { outcome: 'applied', next: { state: 'tombstone', version: op.version, data: EMPTY } }
        : stale;
    case 'upsert':
      return sinkMayApply(stored, op.version)
        ? { outcome: 'applied', next: { state: 'entry', version: op.version, data: op.value } }
        : stale;
    case 'delete':
      return sinkMayApply(stored, op.version)
        ? { outcome: 'applied', next: { state: 'absent', version: op.version, data: EMPTY } }
        : stale;
    case 'fill':
      return fillMayApply(stored, op.version) ? { outcome: 'applied', next: filled(op.version, op.value) } : stale;
    case 'fill-lease':
      return stored?.state === 'lease' && stored.data.toString('latin1') === op.token
        ? { outcome: 'applied', next: filled(0n, op.value) }
        : stale;
  }
}

function filled(version: bigint, value: Buffer | null): StoredValue {
  return value === null ? { state: 'absent', version, data: EMPTY } : { state: 'entry', version, data: value };
}
