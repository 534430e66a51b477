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
 * Keys without a per-aggregate version use the same path with version 0 (lease-read-through.ts).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, type ScriptError } from '../errors.js';
import { jitteredTtl, resolveCacheTtl, type ResolvedCacheTtl } from './cache-ttl.js';
import { defineGuardCommands, type GuardCommands, type GuardRedis } from './guard-scripts.js';
import { checkLoaded, type CheckedLoad } from './loaded-value.js';
import { pollDelayMs, staleAgeMs, type StaleCandidate } from './lease-wait.js';
import { readCodec, type CodecValue, type ReadCodecName, type ValueCodec } from './read-codec.js';
import { ReadError } from './read-errors.js';
import type {
  FillOutcome, ReadOptions, ReadPathLoader, ReadPathOptions, ReadResult, ReadThrough, ReadThroughOptions,
} from './read-types.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, assertBoundedQueue, guardedCall, positiveInteger } from './redis-calls.js';
import { SingleFlight } from './single-flight.js';
import { decodeStoredValue, formatVersion, type StoredValue } from './stored-value.js';
import { announceArgs } from './l1/invalidation-channel.js';
import { withL1 } from './l1/l1-read.js';

export type {
  Loaded, FillOutcome, ReadResult, ReadOptions, ReadPathOptions, ReadThroughOptions, ReadThrough, ReadPathLoader,
} from './read-types.js';

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
        redis.outboxCacheFillEntry(
          key, formatVersion(version), state, ttlMs, bytes ?? '', token ?? '', ttl.tombstoneTtlMs,
          ...announceArgs(options.redis, key),
        ),
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

  if (!options.l1) {
    return { read, get: async (key, readOptions) => (await read(key, readOptions)).value, l1Stats: () => undefined, close: async () => undefined };
  }
  const front = withL1<T>({ read }, options.redis, options.l1, (value) => codec.encode(value).length, options.codec === 'json' ? deepFreeze : (v) => v);
  return { read: front.read, get: async (key, readOptions) => (await front.read(key, readOptions)).value, l1Stats: front.l1Stats, close: front.close };
}

/** Freezes a JSON value and everything in it, so L1's shared values cannot be changed by a caller. */
function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
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
