/**
 * The application's read path (guard v2, DESIGN.md §4): read-through with leases on every key.
 *
 * Hit: one GET. Miss (key missing, tombstone, or an entry below `minVersion`): acquireLease-1.lua
 * takes a lease before the database read (floor 0 over nothing, the tombstone's version over a
 * tombstone); fillEntry-1.lua stores the loaded value only while the key still holds that lease
 * (a sink write, an eviction or the lease TTL ends it), or over an older entry. A reader finding
 * another reader's lease does not load: it polls (bounded, jittered) until the fill lands or the
 * lease is gone, so one key costs one database load per lease period across all processes; when
 * the wait budget runs out it loads without filling. A loader that fails or does not settle in
 * `loadTimeoutMs` releases its lease. Within one process, concurrent misses share one load.
 * Keys without a per-aggregate version use the same path with version 0 (`versionless`).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, type OutboxCacheError, type ScriptError } from '../errors.js';
import { jitteredTtl, resolveCacheTtl, type CacheTtlOptions, type ResolvedCacheTtl } from './cache-ttl.js';
import { defineGuardCommands, type GuardCommands, type GuardRedis } from './guard-scripts.js';
import { checkLoaded, type CheckedLoad } from './loaded-value.js';
import { pollDelayMs, staleAgeMs, type StaleCandidate } from './lease-wait.js';
import { readCodec, type CodecValue, type ReadCodecName, type ValueCodec } from './read-codec.js';
import { ReadError } from './read-errors.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, assertBoundedQueue, guardedCall, positiveInteger } from './redis-calls.js';
import { SingleFlight } from './single-flight.js';
import { decodeStoredValue, formatVersion, type StoredValue } from './stored-value.js';

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

/** Creates a version-guarded read-through cache. Throws ConfigError for invalid options. */
export function createReadThrough<T>(options: ReadThroughOptions<'json', T>): ReadThrough<T>;
export function createReadThrough(options: ReadThroughOptions<'bytes', Buffer>): ReadThrough<Buffer>;
export function createReadThrough<C extends ReadCodecName>(options: ReadThroughOptions<C, CodecValue<C>>): ReadThrough<CodecValue<C>> {
  return createReadPath(options, { load: options.loader, versioned: true });
}

/** Outcome of one miss, shared by the callers of one flight; each applies its own stale bound. */
interface MissOutcome<T> {
  readonly result?: ReadResult<T>;
  readonly error?: unknown;
  readonly stale?: StaleCandidate;
}

/** The one read path behind createReadThrough and createLeaseReadThrough. */
export function createReadPath<T>(options: ReadPathOptions & { readonly codec: ReadCodecName }, loader: ReadPathLoader): ReadThrough<T> {
  const codec = readCodec(options.codec) as ValueCodec<T>;
  assertBoundedQueue(options.redis);
  const ttl: ResolvedCacheTtl = resolveCacheTtl(options);
  const timeoutMs = positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
  const leaseTtlMs = positiveInteger('leaseTtlMs', options.leaseTtlMs ?? 5_000);
  const leaseWaitMs = nonNegativeInteger('leaseWaitMs', options.leaseWaitMs ?? leaseTtlMs);
  const loadTimeoutMs = positiveInteger('loadTimeoutMs', options.loadTimeoutMs ?? leaseTtlMs);
  const random = options.random ?? Math.random;
  const onFillError = options.onFillError ?? (() => undefined);
  const loaderName = options.name ?? (loader.load.name || 'loader');
  const redis: GuardRedis & GuardCommands = defineGuardCommands(options.redis);
  const flights = new SingleFlight<MissOutcome<T>>();
  const staleFlights = new SingleFlight<MissOutcome<T>>();

  function cached(stored: StoredValue | undefined, minVersion: bigint): ReadResult<T> | undefined {
    if (!stored || stored.version < minVersion) return undefined;
    if (stored.state === 'entry') return { value: codec.decode(stored.data), version: stored.version, source: 'cache' };
    if (stored.state === 'absent') return { value: undefined, version: stored.version, source: 'cache' };
    return undefined;
  }

  async function miss(key: string, minVersion: bigint, serveStaleEarly: boolean): Promise<MissOutcome<T>> {
    const token = randomBytes(16).toString('hex');
    const waitEnds = performance.now() + leaseWaitMs;
    let stale: StaleCandidate | undefined;
    for (let attempt = 0; ; attempt++) {
      const [kind, raw, now] = await guardedCall(`acquire lease on '${key}'`, timeoutMs, () =>
        redis.outboxCacheAcquireLeaseBuffer(key, token, leaseTtlMs, formatVersion(minVersion)),
      );
      const stored = decodeStoredValue(raw);
      if (stored?.stale) stale = { bytes: stored.stale, redisNowMs: Number(now.toString('latin1')), seenAt: performance.now() };
      switch (kind.toString('latin1')) {
        case 'v': {
          const hit = cached(stored, minVersion);
          if (hit) return { result: hit };
          return loadAndFill(key, undefined, stale, true);
        }
        case 'b':
          return loadAndFill(key, undefined, stale, true);
        case 'l':
          return loadAndFill(key, token, stale, true);
      }
      // Another reader holds the lease: serve kept bytes, wait for its fill, or load without filling.
      if (serveStaleEarly && stale) return { stale };
      const left = waitEnds - performance.now();
      if (left <= 0) return loadAndFill(key, undefined, stale, false);
      await sleep(Math.min(left, pollDelayMs(attempt, random)));
    }
  }

  async function loadAndFill(key: string, token: string | undefined, stale: StaleCandidate | undefined, mayFill: boolean): Promise<MissOutcome<T>> {
    let loaded: CheckedLoad;
    try {
      loaded = checkLoaded(await loadWithin(key), loader.versioned, loaderName, key);
    } catch (error) {
      if (token) await release(key, token);
      return { error, stale };
    }
    let bytes: Buffer | undefined;
    let value: T | undefined;
    if (loaded.value !== undefined) {
      try {
        bytes = codec.encode(loaded.value as T);
        value = codec.decode(bytes);
      } catch (cause) {
        if (token) await release(key, token);
        onFillError(new ReadError(`value loaded for key '${key}' cannot be encoded with the ${options.codec} codec; not cached`, { code: 'READ_VALUE_UNENCODABLE', cause }), key);
        return { result: { value: loaded.value as T, version: loaded.version, source: 'database', fill: 'failed' } };
      }
    }
    const fill = mayFill ? await fillEntry(key, loaded.version, bytes, token) : 'skipped';
    return { result: { value, version: loaded.version, source: 'database', fill } };
  }

  async function loadWithin(key: string): Promise<unknown> {
    const loading = Promise.resolve().then(() => loader.load(key));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new ReadError(
        `loader '${loaderName}' did not settle within ${loadTimeoutMs} ms for key '${key}'`, { code: 'READ_LOAD_TIMEOUT', retriable: true },
      )), loadTimeoutMs);
    });
    // A loader cut off by the deadline may still fail later; that is not an unhandled rejection.
    loading.catch(() => undefined);
    try {
      return await Promise.race([loading, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function fillEntry(key: string, version: bigint, bytes: Buffer | undefined, token: string | undefined): Promise<FillOutcome> {
    const [state, ttlMs] = bytes === undefined ? (['A', ttl.negativeTtlMs] as const) : (['E', jitteredTtl(ttl, random)] as const);
    try {
      const reply = await guardedCall(`fill '${key}'`, timeoutMs, () =>
        redis.outboxCacheFillEntry(key, formatVersion(version), state, ttlMs, bytes ?? '', token ?? '', ttl.tombstoneTtlMs),
      );
      return reply === 1 ? 'filled' : reply === -1 ? 'lease-lost' : 'refused';
    } catch (err) {
      onFillError(err as ScriptError, key);
      return 'failed';
    }
  }

  async function release(key: string, token: string): Promise<void> {
    try {
      await guardedCall(`release lease on '${key}'`, timeoutMs, () => redis.outboxCacheReleaseLease(key, token, ttl.tombstoneTtlMs));
    } catch (err) {
      // The lease then ends with its TTL.
      onFillError(err as ScriptError, key);
    }
  }

  /** The flight's outcome for one caller: its result, kept bytes within the caller's bound, or its error. */
  function settle(outcome: MissOutcome<T>, allowStaleMs: number | undefined): ReadResult<T> | undefined {
    if (outcome.result) return outcome.result;
    const stale = outcome.stale;
    if (stale && allowStaleMs !== undefined) {
      const age = staleAgeMs(stale, performance.now());
      if (age <= allowStaleMs) {
        return { value: codec.decode(stale.bytes.data), version: stale.bytes.version, source: 'stale', staleAgeMs: age };
      }
    }
    if ('error' in outcome) throw outcome.error;
    return undefined;
  }

  async function read(key: string, readOptions: ReadOptions = {}): Promise<ReadResult<T>> {
    const minVersion = readOptions.minVersion ?? 0n;
    formatVersion(minVersion);
    const allowStaleMs = readOptions.minVersion === undefined ? checkedStaleBound(readOptions.allowStaleMs) : undefined;
    const raw = await guardedCall(`read cache key '${key}'`, timeoutMs, () => redis.getBuffer(key));
    const hit = cached(decodeStoredValue(raw), minVersion);
    if (hit) return hit;
    if (allowStaleMs !== undefined) {
      const served = settle(await staleFlights.run(key, () => miss(key, 0n, true)), allowStaleMs);
      if (served) return served;
    }
    const shared = settle(await flights.run(key, () => miss(key, minVersion, false)), undefined);
    // A flight started by another caller may predate this caller's own write.
    if (shared && shared.version >= minVersion) return shared;
    return settle(await miss(key, minVersion, false), undefined) as ReadResult<T>;
  }

  return { read, get: async (key, readOptions) => (await read(key, readOptions)).value };
}

function checkedStaleBound(allowStaleMs: number | undefined): number | undefined {
  if (allowStaleMs === undefined) return undefined;
  if (typeof allowStaleMs !== 'number' || !(allowStaleMs >= 0) || !Number.isFinite(allowStaleMs)) {
    throw new ReadError(`allowStaleMs must be a non-negative number of milliseconds, got ${String(allowStaleMs)}`, { code: 'READ_OPTIONS_INVALID' });
  }
  return allowStaleMs;
}

function nonNegativeInteger(setting: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new ConfigError([{ setting, message: `must be a non-negative integer, got ${value}` }]);
  return value;
}
