/**
 * The version guard v2 (DESIGN.md §4: versions plus leases on every key) as a pure function: the
 * same rule the Lua scripts in `lua/` apply atomically in Redis, kept here for reasoning and
 * tests. One table of cases (test/cache/guard-cases.ts) runs against both, so they cannot drift.
 * TTLs are not modelled (an expired state is a missing key, like an evicted one).
 */
import type { StoredValue } from './stored-value.js';

/** One operation on one cache key, from the sink or from a reader. Versions are in [0, 2^63-1]. */
export type GuardOp =
  /**
   * Sink: tombstone at `version` unless the key holds a version >= `version` (a lease counts with
   * its floor). With `keepBytes`, the tombstone keeps the invalidated entry's bytes.
   */
  | { readonly kind: 'invalidate'; readonly version: bigint; readonly keepBytes?: boolean }
  /** Sink: entry (`version`, `value`) unless the key holds a version >= `version`. */
  | { readonly kind: 'upsert'; readonly version: bigint; readonly value: Buffer }
  /** Sink: known absent at `version` unless the key holds a version >= `version`. */
  | { readonly kind: 'delete'; readonly version: bigint }
  /** Sink: drop the key, revoking every lease (keys without a per-aggregate version). */
  | { readonly kind: 'revoke-leases' }
  /**
   * Reader miss: takes lease `token` over a missing key (floor 0) or a tombstone (floor = its
   * version, kept bytes carried). No lease over an entry/absent or another reader's lease.
   */
  | { readonly kind: 'acquire'; readonly token: string }
  /**
   * Reader that read `version` from the database: stores the entry (`value`), or known absent
   * when `value` is null, only while the key holds its lease `token` with floor <= `version`, or
   * over an entry/absent at v < `version`. A missing key, a tombstone or another lease refuse.
   */
  | { readonly kind: 'fill'; readonly version: bigint; readonly value: Buffer | null; readonly token?: string }
  /** Reader gives its lease `token` back: the tombstone at the floor again (deleted at floor 0). */
  | { readonly kind: 'release'; readonly token: string }
  /**
   * Operator flush: an entry/absent becomes a tombstone at its own version, a lease a tombstone
   * at its floor (revoked), kept bytes dropped; a tombstone, a missing key or foreign data stay.
   */
  | { readonly kind: 'flush' };

/** Result of {@link applyGuard}: whether the op changed the key, and the key's state afterwards. */
export interface GuardResult {
  /** `applied`: the op did what it asked; `stale`: refused (equal or newer state, lease not held). */
  readonly outcome: 'applied' | 'stale';
  /** State after the op; undefined = key missing. */
  readonly next: StoredValue | undefined;
}

const EMPTY = Buffer.alloc(0);

/** Sink rule: only a strictly higher version than the stored one (missing = none; a lease's floor) applies. */
export function sinkMayApply(stored: StoredValue | undefined, version: bigint): boolean {
  return stored === undefined || stored.version < version;
}

/** True when `stored` is the lease of `token`. */
export function holdsLease(stored: StoredValue | undefined, token: string | undefined): boolean {
  return token !== undefined && token !== '' && stored?.state === 'lease' && stored.data.toString('latin1') === token;
}

/**
 * Fill rule: under the reader's own lease with `version` >= its floor, or over an entry/absent at
 * v < `version`. A missing key, a tombstone and another reader's lease refuse.
 */
export function fillMayApply(stored: StoredValue | undefined, version: bigint, token?: string): boolean {
  if (stored === undefined || stored.state === 'tombstone') return false;
  if (stored.state === 'lease') return holdsLease(stored, token) && stored.version <= version;
  return stored.version < version;
}

/**
 * Applies `op` to the state `stored` (undefined = key missing) and returns the outcome and new
 * state. `nowMs` stamps kept bytes (the scripts use Redis's clock).
 */
export function applyGuard(stored: StoredValue | undefined, op: GuardOp, nowMs = 0): GuardResult {
  const stale: GuardResult = { outcome: 'stale', next: stored };
  switch (op.kind) {
    case 'revoke-leases':
      return { outcome: 'applied', next: undefined };
    case 'invalidate':
      return sinkMayApply(stored, op.version)
        ? { outcome: 'applied', next: tombstone(stored, op.version, op.keepBytes === true, nowMs) }
        : stale;
    case 'upsert':
      return sinkMayApply(stored, op.version)
        ? { outcome: 'applied', next: { state: 'entry', version: op.version, data: op.value } }
        : stale;
    case 'delete':
      return sinkMayApply(stored, op.version)
        ? { outcome: 'applied', next: { state: 'absent', version: op.version, data: EMPTY } }
        : stale;
    case 'acquire': {
      const lease: StoredValue = { state: 'lease', version: 0n, data: Buffer.from(op.token, 'latin1') };
      if (stored === undefined) return { outcome: 'applied', next: lease };
      if (stored.state !== 'tombstone') return stale;
      return { outcome: 'applied', next: withStale({ ...lease, version: stored.version }, stored) };
    }
    case 'fill':
      if (fillMayApply(stored, op.version, op.token)) return { outcome: 'applied', next: filled(op.version, op.value) };
      // Own lease, version below its floor (a lagging replica): the lease goes back to the tombstone.
      return holdsLease(stored, op.token) ? { outcome: 'stale', next: released(stored) } : stale;
    case 'release':
      return holdsLease(stored, op.token) ? { outcome: 'applied', next: released(stored) } : stale;
    case 'flush':
      return stored === undefined || stored.state === 'tombstone'
        ? stale
        : { outcome: 'applied', next: { state: 'tombstone', version: stored.version, data: EMPTY } };
  }
}

function tombstone(stored: StoredValue | undefined, version: bigint, keepBytes: boolean, nowMs: number): StoredValue {
  const next: StoredValue = { state: 'tombstone', version, data: EMPTY };
  if (!keepBytes || stored === undefined) return next;
  if (stored.state === 'entry') return { ...next, stale: { invalidatedAtMs: nowMs, version: stored.version, data: stored.data } };
  return withStale(next, stored);
}

function released(lease: StoredValue | undefined): StoredValue | undefined {
  if (!lease || lease.version === 0n) return undefined;
  return withStale({ state: 'tombstone', version: lease.version, data: EMPTY }, lease);
}

function withStale(value: StoredValue, from: StoredValue): StoredValue {
  return from.stale ? { ...value, stale: from.stale } : value;
}

function filled(version: bigint, value: Buffer | null): StoredValue {
  return value === null ? { state: 'absent', version, data: EMPTY } : { state: 'entry', version, data: value };
}
