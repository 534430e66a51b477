/**
 * The auditor's check (DESIGN.md §7), pure: given the version V an outbox event wrote to a cache
 * key and the key's stored header read at commit time + M, is the key consistent? A key is
 * consistent when it would not serve a version older than V: missing, tombstone, lease (any
 * floor), or entry / known-absent at v >= V. It is inconsistent when it holds an entry or
 * known-absent at v < V. Reads the guard-v2 layout only through decodeStoredValue (state + version).
 */
import { decodeStoredValue, type StoredState } from '../cache/stored-value.js';

/** Result of one check. */
export type CheckResult = 'consistent' | 'inconsistent';

/** What the key held when it was checked: a stored state, nothing, or a value not in the guard's layout. */
export type FoundState = StoredState | 'missing' | 'foreign';

/** The classification of one check, with what was found and how long after the commit it was read. */
export interface CheckOutcome {
  readonly result: CheckResult;
  readonly found: FoundState;
  /** Version of the found state (a lease's floor); undefined for missing and foreign values. */
  readonly foundVersion: bigint | undefined;
  /** Read time minus commit time, ms (never negative). */
  readonly lagMs: number;
}

/**
 * Classifies the stored header `raw` (the first bytes of the key's value, e.g. GETRANGE 0 20; null
 * or empty for a missing key) against the event's version `expected`. A value that is not in the
 * guard's layout counts as consistent: the guard and the read path treat it as "no state", so it is
 * never served as a cached version.
 */
export function classify(expected: bigint, raw: Buffer | null | undefined, commitMs: number, readAtMs: number): CheckOutcome {
  const lagMs = Math.max(0, readAtMs - commitMs);
  if (!raw || raw.length === 0) return { result: 'consistent', found: 'missing', foundVersion: undefined, lagMs };
  const stored = decodeStoredValue(raw);
  if (!stored) return { result: 'consistent', found: 'foreign', foundVersion: undefined, lagMs };
  const servesOlder = (stored.state === 'entry' || stored.state === 'absent') && stored.version < expected;
  return { result: servesOlder ? 'inconsistent' : 'consistent', found: stored.state, foundVersion: stored.version, lagMs };
}

/**
 * Nines of a consistency fraction, `-log10(1 - consistent / total)` (0.999 → 3). With no
 * inconsistency the measured value is infinite, so it is capped at `log10(total)`: the most that
 * `total` checks can show (1,000 clean checks show 3 nines, not "infinitely many"). Undefined
 * when there was no check.
 */
export function nines(consistent: number, total: number): number | undefined {
  if (total <= 0) return undefined;
  const missed = Math.max(total - consistent, 1) / total;
  return Math.max(0, -Math.log10(missed));
}
