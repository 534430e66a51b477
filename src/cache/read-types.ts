/**
 * Types of the read path (read-through.ts): what a loader returns, what a read returns, and the
 * options of the read path and of each read.
 */
import type { OutboxCacheError } from '../errors.js';
import type { CacheTtlOptions } from './cache-ttl.js';
import type { GuardRedis } from './guard-scripts.js';
import type { ReadCodecName } from './read-codec.js';

/** What a loader returns: the row's value and version, or absent (null = absent, version 0). */
export type Loaded<T> =
  | { readonly version: bigint; readonly value: T }
  | { readonly version?: bigint; readonly absent: true }
  | null;

/**
 * What a fill did: `filled`; `refused` (a newer state, a sink write since the lease, another
 * reader's lease); `lease-lost` (the key was missing: the lease expired because the load outlived
 * the lease TTL, or a revoke-leases, an eviction or a Redis restart removed it); `skipped` (no
 * lease: the wait budget ran out); `failed` (Redis failed, or the value could not be encoded;
 * `onFillError` was told). `too-old` is no longer produced (guard v1's read-age refusal, now
 * `lease-lost`); it stays in the type for code that still tests for it.
 */
export type FillOutcome = 'filled' | 'refused' | 'lease-lost' | 'skipped' | 'failed' | 'too-old';

/** A read's result: the value (undefined when absent), its version and where it came from. */
export interface ReadResult<T> {
  readonly value: T | undefined;
  /** Version of the value; 0n for a row absent without a version and for version-less keys. */
  readonly version: bigint;
  /** `stale`: the kept bytes of an invalidated entry (only with `allowStaleMs`); `version` is theirs. */
  readonly source: 'cache' | 'database' | 'stale';
  /** For database reads: what the fill did. */
  readonly fill?: FillOutcome;
  /** For stale reads: ms since the entry was invalidated, by Redis's clock. */
  readonly staleAgeMs?: number;
}

/** Options of a read, per call. */
export interface ReadOptions {
  /**
   * Read-your-writes: a cached version below this is bypassed and the database read instead
   * (pass the version your own write committed). Such reads are never served stale.
   */
  readonly minVersion?: bigint;
  /**
   * Bounded-stale serving (opt-in; needs the sink's keepStaleBytes): while another reader holds
   * the lease, or when the loader fails, return the invalidated entry's kept bytes if they were
   * invalidated at most this many ms ago by Redis's clock. Ignored with `minVersion`.
   */
  readonly allowStaleMs?: number;
}

/** Options shared by the read paths. TTLs must match the sink writer's. */
export interface ReadPathOptions extends CacheTtlOptions {
  /** ioredis client; the same queueing rule as the writer applies (see RedisCacheWriter). */
  readonly redis: GuardRedis;
  /** Deadline of one Redis call in ms; past it the read fails with REDIS_UNAVAILABLE. Default 2,000. */
  readonly commandTimeoutMs?: number;
  /** How long a lease stands, in ms: a load slower than this does not fill. Default 5,000. */
  readonly leaseTtlMs?: number;
  /**
   * Wait budget in ms: how long a reader that finds another reader's lease polls for its fill
   * before loading itself (without filling). 0: never wait. Default: leaseTtlMs, so a crashed
   * lease holder is waited out and only then replaced.
   */
  readonly leaseWaitMs?: number;
  /**
   * Deadline of one loader call in ms: past it the read fails with ReadError `READ_LOAD_TIMEOUT`
   * (retriable), the lease is released and every reader waiting on the key moves on. Default:
   * leaseTtlMs.
   */
  readonly loadTimeoutMs?: number;
  /** Name of the loader in errors. Default: the loader function's name. */
  readonly name?: string;
  /**
   * Told when a load succeeded but its fill failed (Redis failed, or the value could not be
   * encoded: ReadError `READ_VALUE_UNENCODABLE`); the read still returns the value.
   */
  readonly onFillError?: (err: OutboxCacheError, key: string) => void;
  /** Source of randomness in [0, 1) for TTL and poll jitter. Default Math.random. */
  readonly random?: () => number;
}

/** Options of {@link createReadThrough}. */
export interface ReadThroughOptions<C extends ReadCodecName, T> extends ReadPathOptions {
  /** How values are stored: `json` (JSON.stringify/parse) or `bytes` (Buffers as they are). */
  readonly codec: C;
  /** Reads one row and its version from the database. Called only on a miss, under the lease. */
  readonly loader: (key: string) => Promise<Loaded<T>>;
}

/** A read-through cache over the version guard and its leases. */
export interface ReadThrough<T> {
  /** The value for `key` (undefined when absent), from Redis or the database. */
  get(key: string, options?: ReadOptions): Promise<T | undefined>;
  /** Like get, with the version and where the value came from. */
  read(key: string, options?: ReadOptions): Promise<ReadResult<T>>;
}

/** The loader contract of {@link createReadPath}: versioned or not. */
export interface ReadPathLoader {
  readonly load: (key: string) => Promise<unknown>;
  /** False for keys without a per-aggregate version (their values get version 0). */
  readonly versioned: boolean;
}
