/**
 * What one cache key holds, decoded for an operator (`inspect`), and the auditor's verdict
 * against the database version (DESIGN.md §7: missing, tombstone and lease are consistent; an
 * entry or "known absent" is stale only below the database's version). The layout is decoded by
 * the cache's own decodeStoredValue. Pure: no I/O.
 */
import { decodeStoredValue, type StoredState } from '../cache/stored-value.js';

/** Bytes a tombstone or lease kept from the entry it invalidated, for bounded-stale reads. */
export interface KeptStale {
  readonly version: bigint;
  /** Redis time of the invalidation, ms since 1970. */
  readonly invalidatedAtMs: number;
  readonly bytes: number;
}

/** The decoded state of one key. */
export interface KeyState {
  readonly key: string;
  /** `foreign`: a string this project did not write; `wrong-type`: not a string at all. */
  readonly kind: StoredState | 'missing' | 'foreign' | 'wrong-type';
  /** Entry/absent/tombstone version, or a lease's floor. */
  readonly version?: bigint;
  /** Remaining TTL in ms; undefined when the key has none or is missing. */
  readonly ttlMs?: number;
  /** Lease token (32 hex) when kind is `lease`. */
  readonly leaseToken?: string;
  readonly stale?: KeptStale;
  /** Size of the cached value (entry data) in bytes. */
  readonly valueBytes?: number;
  /** Total size of the stored string. */
  readonly storedBytes?: number;
}

/**
 * Decodes a key from its type, TTL (PTTL: -2 missing, -1 none), total length and its first bytes
 * (`head`, at least the header, the token and the kept-stale prefix: 128 bytes suffice); sizes
 * come from the total length, so a large value is never read whole.
 */
export function decodeKeyState(key: string, redisType: string, pttl: number, storedBytes: number, head: Buffer): KeyState {
  if (redisType === 'none') return { key, kind: 'missing' };
  const ttlMs = pttl >= 0 ? pttl : undefined;
  if (redisType !== 'string') return { key, kind: 'wrong-type', ttlMs };
  const decoded = decodeStoredValue(head);
  if (!decoded) return { key, kind: 'foreign', ttlMs, storedBytes };
  // Bytes past the head belong to the last part: the entry's data or the kept stale bytes.
  const tailBytes = (part: Buffer): number => storedBytes - (head.length - part.length);
  const stale = decoded.stale
    ? { version: decoded.stale.version, invalidatedAtMs: decoded.stale.invalidatedAtMs, bytes: tailBytes(decoded.stale.data) }
    : undefined;
  const base = { key, kind: decoded.state, version: decoded.version, ttlMs, storedBytes };
  switch (decoded.state) {
    case 'entry':
      return { ...base, valueBytes: tailBytes(decoded.data) };
    case 'absent':
      return base;
    case 'tombstone':
      return { ...base, stale };
    case 'lease':
      return { ...base, leaseToken: decoded.data.toString('latin1'), stale };
  }
}

/** `consistent`, `stale`, or `unknown` (no database version asked for, or a foreign value). */
export type Verdict = 'consistent' | 'stale' | 'unknown';

/**
 * The auditor's rule for one key: `dbVersion` is the database's version, null when the row does
 * not exist, undefined when not asked.
 */
export function verdictOf(state: KeyState, dbVersion: bigint | null | undefined): Verdict {
  if (dbVersion === undefined) return 'unknown';
  switch (state.kind) {
    case 'missing':
    case 'tombstone':
    case 'lease':
      return 'consistent';
    case 'entry':
      return dbVersion === null || (state.version ?? 0n) < dbVersion ? 'stale' : 'consistent';
    case 'absent':
      return dbVersion !== null && (state.version ?? 0n) < dbVersion ? 'stale' : 'consistent';
    default:
      return 'unknown';
  }
}

/** The namespace and id of `<keyPrefix><namespace>:<id>`; undefined when the key is not of that form. */
export function splitKey(key: string, keyPrefix: string): { namespace: string; id: string } | undefined {
  if (!key.startsWith(keyPrefix)) return undefined;
  const rest = key.slice(keyPrefix.length);
  const colon = rest.indexOf(':');
  if (colon <= 0) return undefined;
  return { namespace: rest.slice(0, colon), id: rest.slice(colon + 1) };
}

/** Turns `:id` and `:namespace` in `template` into `?` placeholders with their values, in order. */
export function bindKeySql(template: string, parts: { namespace: string; id: string }): { sql: string; params: string[] } {
  const params: string[] = [];
  const sql = template.replace(/:(id|namespace)\b/g, (_m, name: 'id' | 'namespace') => {
    params.push(parts[name]);
    return '?';
  });
  return { sql, params };
}

/** One line per key for people: kind, version, TTL, lease, kept bytes, sizes, verdict. */
export function formatKeyState(state: KeyState, verdict: Verdict, dbVersion: bigint | null | undefined): string {
  const parts = [state.key, state.kind];
  if (state.version !== undefined) parts.push(state.kind === 'lease' ? `floor=${state.version}` : `version=${state.version}`);
  if (state.ttlMs !== undefined) parts.push(`ttl=${state.ttlMs}ms`);
  if (state.leaseToken) parts.push(`lease=${state.leaseToken}`);
  if (state.stale) parts.push(`stale=v${state.stale.version} ${state.stale.bytes}B at ${new Date(state.stale.invalidatedAtMs).toISOString()}`);
  if (state.valueBytes !== undefined) parts.push(`value=${state.valueBytes}B`);
  if (dbVersion !== undefined) parts.push(`db=${dbVersion === null ? 'no row' : dbVersion}`, verdict);
  return parts.join('  ');
}
