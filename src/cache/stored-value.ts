/**
 * The Redis value layout of a cache key (guard v2), shared by the sink (through the Lua scripts),
 * the read path and operators' tools. One Redis string per cache key, always starting with the
 * header `<state><version>:` (unchanged since v1, so every v1 value is valid input):
 *
 *   E<v>:<data>                                    entry at version v
 *   A<v>:                                          known absent at v
 *   T<v>:                                          tombstone at v
 *   T<v>:<invalidatedAtMs>:<staleVersion>:<bytes>  tombstone keeping the invalidated entry's bytes
 *   L<floor>:<token>                               a reader's lease, taken over a tombstone at
 *                                                  `floor` (0: over a missing key)
 *   L<floor>:<token>:<invalidatedAtMs>:<staleVersion>:<bytes>   lease carrying the tombstone's bytes
 *
 * Versions are canonical decimal (no sign, no leading zeros), 0 .. 2^63-1. Pure: no I/O.
 */
import { OutboxCacheError } from '../errors.js';

/** What a cache key holds: entry, known absent (negative cache), tombstone, or a reader's lease. */
export type StoredState = 'entry' | 'absent' | 'tombstone' | 'lease';

/** The bytes of an invalidated entry, kept by a tombstone (and the lease over it) for bounded-stale reads. */
export interface StaleBytes {
  /** When the entry was invalidated, in ms since 1970 by Redis's clock. */
  readonly invalidatedAtMs: number;
  /** Version of the invalidated entry. */
  readonly version: bigint;
  /** The invalidated entry's data. */
  readonly data: Buffer;
}

/** A decoded cache value. */
export interface StoredValue {
  readonly state: StoredState;
  /** Aggregate version; for a lease its floor (the tombstone's version it replaced, or 0). */
  readonly version: bigint;
  /** Cached bytes for `entry`, the token for `lease`, empty otherwise. */
  readonly data: Buffer;
  /** Kept bytes of an invalidated entry (tombstones and leases only; absent when none). */
  readonly stale?: StaleBytes;
}

/** Largest version a key can hold: MySQL BIGINT's maximum, 2^63-1. */
export const MAX_VERSION = 2n ** 63n - 1n;

const STATE_CHAR: Record<StoredState, string> = { entry: 'E', absent: 'A', tombstone: 'T', lease: 'L' };
const CHAR_STATE: Record<number, StoredState> = { 0x45: 'entry', 0x41: 'absent', 0x54: 'tombstone', 0x4c: 'lease' };
const COLON = 0x3a;
/** State byte + 19 digits + ':' : the header never extends past this many bytes. */
const MAX_HEADER = 21;
const CANONICAL = /^(0|[1-9]\d{0,18})$/;

/** True when `text` is a version in canonical decimal within 0 .. 2^63-1 (as the scripts require). */
export function isCanonicalVersion(text: string): boolean {
  return CANONICAL.test(text) && BigInt(text) <= MAX_VERSION;
}

/**
 * Canonical decimal text of a version, as the Lua scripts compare it (no sign, no leading zeros).
 * Throws a non-retriable `CACHE_VERSION_INVALID` error outside [0, 2^63-1].
 */
export function formatVersion(version: bigint): string {
  if (typeof version !== 'bigint') {
    throw new OutboxCacheError(`cache version ${String(version)} is a ${typeof version}, not a bigint`, { code: 'CACHE_VERSION_INVALID' });
  }
  if (version < 0n || version > MAX_VERSION) {
    throw new OutboxCacheError(`cache version ${version} is outside 0 .. 2^63-1`, { code: 'CACHE_VERSION_INVALID' });
  }
  return version.toString(10);
}

/** Encodes a value in the layout the Lua scripts write (used by tests and by operators' tools). */
export function encodeStoredValue(value: StoredValue): Buffer {
  const header = `${STATE_CHAR[value.state]}${formatVersion(value.version)}:`;
  const parts = [Buffer.from(header, 'latin1'), value.data];
  if (value.stale && (value.state === 'tombstone' || value.state === 'lease')) {
    const lead = value.state === 'lease' ? ':' : '';
    parts.push(Buffer.from(`${lead}${value.stale.invalidatedAtMs}:${formatVersion(value.stale.version)}:`, 'latin1'), value.stale.data);
  }
  return Buffer.concat(parts);
}

/**
 * Decodes a stored Redis string. Returns undefined for a missing key (null) and for a string this
 * module did not write, which the guard scripts also treat as "no state". A tombstone or lease
 * whose kept bytes are malformed decodes without them (its state and version still count).
 */
export function decodeStoredValue(raw: Buffer | null | undefined): StoredValue | undefined {
  if (!raw || raw.length < 3) return undefined;
  const state = CHAR_STATE[raw[0] ?? 0];
  if (!state) return undefined;
  const colon = raw.indexOf(COLON, 1);
  if (colon < 2 || colon >= MAX_HEADER) return undefined;
  for (let i = 1; i < colon; i++) {
    const c = raw[i] ?? 0;
    if (c < 0x30 || c > 0x39) return undefined;
  }
  // Non-canonical (leading zero) versions would compare differently as strings in Lua.
  if (raw[1] === 0x30 && colon > 2) return undefined;
  const version = BigInt(raw.toString('latin1', 1, colon));
  const rest = raw.subarray(colon + 1);
  if (state === 'entry' || state === 'absent') return { state, version, data: rest };
  if (state === 'tombstone') {
    const stale = rest.length > 0 ? decodeStale(rest) : undefined;
    return stale ? { state, version, data: EMPTY, stale } : { state, version, data: EMPTY };
  }
  const tokenEnd = rest.indexOf(COLON);
  if (tokenEnd < 0) return { state, version, data: rest };
  const stale = decodeStale(rest.subarray(tokenEnd + 1));
  const token = rest.subarray(0, tokenEnd);
  return stale ? { state, version, data: token, stale } : { state, version, data: token };
}

const EMPTY = Buffer.alloc(0);

/** `<invalidatedAtMs>:<staleVersion>:<bytes>`, or undefined when malformed. */
function decodeStale(tail: Buffer): StaleBytes | undefined {
  const first = tail.indexOf(COLON);
  const second = first < 0 ? -1 : tail.indexOf(COLON, first + 1);
  if (first < 1 || second < first + 2) return undefined;
  const at = tail.toString('latin1', 0, first);
  const version = tail.toString('latin1', first + 1, second);
  if (!/^\d{1,16}$/.test(at) || !isCanonicalVersion(version)) return undefined;
  return { invalidatedAtMs: Number(at), version: BigInt(version), data: tail.subarray(second + 1) };
}
