/**
 * TTLs of cache states, their defaults and their consistency check. Pure.
 *
 * Since guard v2 a fill needs the reader's own lease (or an older entry), so no TTL is a safety
 * bound any more: a reader slower than the lease TTL simply finds its lease gone. The check that
 * entries and "known absent" outlive tombstones is kept from v1 so that every configuration valid
 * before stays valid, and because a tombstone outliving the entries it replaces has no use.
 */
import { ConfigError, type ConfigProblem } from '../errors.js';

/** TTL settings shared by the sink's writer and the read path. All durations in milliseconds. */
export interface CacheTtlOptions {
  /** TTL of entries (sink upserts and reader fills), before jitter. Default 3,600,000 (1 h). */
  readonly entryTtlMs?: number;
  /**
   * Fraction in [0, 1) by which an entry's TTL is randomly shortened, so entries written together
   * do not expire together: the TTL is uniform in [entryTtlMs × (1 − jitter), entryTtlMs].
   * Default 0.1.
   */
  readonly ttlJitter?: number;
  /** TTL of "known absent" entries (sink deletes, reader fills of missing rows). Default 300,000 (5 min). */
  readonly negativeTtlMs?: number;
  /**
   * TTL of tombstones (sink invalidations, and a lease given back over a tombstone). The sink and
   * every read path should use the same value. Default 60,000 (1 min).
   */
  readonly tombstoneTtlMs?: number;
}

/** {@link CacheTtlOptions} with every default applied and the invariant checked. */
export type ResolvedCacheTtl = Required<CacheTtlOptions>;

/** The defaults of {@link CacheTtlOptions}. */
export const CACHE_TTL_DEFAULTS: ResolvedCacheTtl = Object.freeze({
  entryTtlMs: 3_600_000,
  ttlJitter: 0.1,
  negativeTtlMs: 300_000,
  tombstoneTtlMs: 60_000,
});

/**
 * Applies defaults and validates: positive integer TTLs, jitter in [0, 1), and the safety
 * invariant (shortest entry TTL and the negative TTL >= tombstone TTL). Throws one ConfigError
 * listing every problem.
 */
export function resolveCacheTtl(options: CacheTtlOptions = {}): ResolvedCacheTtl {
  const resolved = { ...CACHE_TTL_DEFAULTS, ...withoutUndefined(options) };
  const problems: ConfigProblem[] = [];
  for (const name of ['entryTtlMs', 'negativeTtlMs', 'tombstoneTtlMs'] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value <= 0) {
      problems.push({ setting: name, message: `must be a positive integer number of milliseconds, got ${value}` });
    }
  }
  const jitter = resolved.ttlJitter;
  if (!(jitter >= 0 && jitter < 1)) problems.push({ setting: 'ttlJitter', message: `must be in [0, 1), got ${jitter}` });
  if (problems.length === 0) {
    const shortestEntry = Math.floor(resolved.entryTtlMs * (1 - jitter));
    if (shortestEntry < resolved.tombstoneTtlMs) {
      problems.push({
        setting: 'entryTtlMs',
        message: `entryTtlMs × (1 − ttlJitter) = ${shortestEntry} must be >= tombstoneTtlMs (${resolved.tombstoneTtlMs})`,
      });
    }
    if (resolved.negativeTtlMs < resolved.tombstoneTtlMs) {
      problems.push({
        setting: 'negativeTtlMs',
        message: `must be >= tombstoneTtlMs (${resolved.tombstoneTtlMs}), got ${resolved.negativeTtlMs}`,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(resolved);
}

/** An entry TTL in ms: uniform in [entryTtlMs × (1 − jitter), entryTtlMs]; `random` returns [0, 1). */
export function jitteredTtl(ttl: ResolvedCacheTtl, random: () => number): number {
  return Math.max(1, Math.floor(ttl.entryTtlMs * (1 - ttl.ttlJitter * random())));
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
