/**
 * The Redis value layout of a cache key, shared by the sink (through the Lua scripts) and the read
 * path. One Redis string per cache key: `<state><version>:<data>`, e.g. `E42:{"name":"Ada"}`,
 * `T43:`, `A44:`, `L0:9f2c…`. Pure: no I/O.
 */
import { OutboxCacheError } from '../errors.js';

/** What a cache key holds: entry, known absent (negative cache), tombstone, or a reader's lease. */
export type StoredState = 'entry' | 'absent' | 'tombstone' | 'lease';

/** A decoded cache value. */
export interface StoredValue {
  readonly state: StoredState;
  /** Aggregate version; 0n for lease-managed keys (they have no per-aggregate version). */
  readonly version: bigint;
  /** Cached bytes for `entry`, the token for `lease`, empty otherwise. */
  readonly data: Buffer;
}

/** Largest version a key can hold: MySQL BIGINT's maximum, 2^63-1. */
export const MAX_VERSION = 2n ** 63n - 1n;

const STATE_CHAR: Record<StoredState, string> = { entry: 'E', absent: 'A', tombstone: 'T', lease: 'L' };
const CHAR_STATE: Record<number, StoredState> = { 0x45: 'entry', 0x41: 'absent', 0x54: 'tombstone', 0x4c: 'lease' };
const COLON = 0x3a;
/** State byte + 19 digits + ':' : the header never extends past this many bytes. */
const MAX_HEADER = 21;

/**
 * Canonical decimal text of a version, as the Lua scripts compare it (no sign, no leading zeros).
 * Throws a non-retriable `CACHE_VERSION_INVALID` error outside [0, 2^63-1].
 */
export function formatVersion(version: bigint): string {
  if (version < 0n || version > MAX_VERSION) {
    throw new OutboxCacheError(`cache version ${version} is outside 0 .. 2^63-1`, { code: 'CACHE_VERSION_INVALID' });
  }
  return version.toString(10);
}

/** Encodes a value in the layout the Lua scripts write (used by tests and by operators' tools). */
export function encodeStoredValue(value: StoredValue): Buffer {
  const header = `${STATE_CHAR[value.state]}${formatVersion(value.version)}:`;
  return Buffer.concat([Buffer.from(header, 'latin1'), value.data]);
}

/**
 * Decodes a stored Redis string. Returns undefined for a missing key (null) and for a string this
 * module did not write, which the guard scripts also treat as "no state".
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
  return { state, version: BigInt(raw.toString('latin1', 1, colon)), data: raw.subarray(colon + 1) };
}
