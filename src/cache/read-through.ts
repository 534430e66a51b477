/**
 * The application's read path: read-through with fills only through the version guard.
 *
 * Hit: one GET. Miss (or tombstone, or a cached version below `minVersion`): beginFill-1.lua
 * returns the Redis clock, which stamps the start of the database read; the loader reads the row
 * and its version; fillEntry-1.lua stores it unless a newer state is there or the read began more
 * than the tombstone TTL ago by the Redis clock (checked inside the fill script, so a pause
 * between the check and the write cannot slip through). Concurrent misses of one key in this
 * process share one load. For keys without a per-aggregate version see lease-read-through.ts.
 */
import { ScriptError } from '../errors.js';
import { jitteredTtl, resolveCacheTtl, type CacheTtlOptions, type ResolvedCacheTtl } from './cache-ttl.js';
import { defineGuardCommands, type GuardCommands, type GuardRedis } from './guard-scripts.js';
import { readCodec, type CodecValue, type ReadCodecName, type ValueCodec } from './read-codec.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, assertBoundedQueue, guardedCall, positiveInteger } from './redis-calls.js';
import { SingleFlight } from './single-flight.js';
import { decodeStoredValue, formatVersion, type StoredValue } from './stored-value.js';

/** What a loader returns: the row's value and version, or absent (null = absent, version 0). */
export type Loaded<T> =
  | { readonly version: bigint; readonly value: T }
  | { readonly version?: bigint; readonly absent: true }
  | null;

/** What a fill did: stored, refused by a newer state, refused as too old, or failed in Redis. */
export type FillOutcome = 'filled' | 'refused' | 'too-old' | 'failed';

/** A read's result: the value (undefined when absent), its version and where it came from. */
export interface ReadResult<T> {
  readonly value: T | undefined;
  /** Version of the value; 0n for a row absent without a version. */
  readonly version: bigint;
  readonly source: 'cache' | 'database';
  /** For database reads: what the fill did. */
  readonly fill?: FillOutcome;
}

/** Options of a read, per call. */
export interface ReadOptions {
  /**
   * Read-your-writes: a cached version below this is bypassed and the database read instead
   * (pass the version your own write committed).
   */
  readonly minVersion?: bigint;
}

/** Options shared by both read paths. TTLs must match the sink writer's. */
export interface ReadPathOptions extends CacheTtlOptions {
  /** ioredis client; the same queueing rule as the writer applies (see RedisCacheWriter). */
  readonly redis: GuardRedis;
  /** Deadline of one Redis call in ms; past it the read fails with REDIS_UNAVAILABLE. Default 2,000. */
  readonly commandTimeoutMs?: number;
  /** Called when a fill fails in Redis after a successful load (the value is still returned). */
  readonly onFillError?: (err: ScriptError, key: string) => void;
  /** Source of randomness in [0, 1) for TTL jitter. Default Math.random. */
  readonly random?: () => number;
}

/** Options of {@link createReadThrough}. */
export interface ReadThroughOptions<C extends ReadCodecName, T> extends ReadPathOptions {
  /** How values are stored: `json` (JSON.stringify/parse) or `bytes` (Buffers as they are). */
  readonly codec: C;
  /** Reads one row and its version from the database. Called only on a miss. */
  readonly loader: (key: string) => Promise<Loaded<T>>;
}

/** A read-through cache over the version guard. */
export interface ReadThrough<T> {
  /** The value for `key` (undefined when absent), from Redis or the database. */
  get(key: string, options?: ReadOptions): Promise<T | undefined>;
  /** Like get, with the version and where the value came from. */
  read(key: string, options?: ReadOptions): Promise<ReadResult<T>>;
}

/** Shared plumbing of both read paths: client, codec, TTLs, deadline. */
export interface ReadPathContext<T> {
  readonly redis: GuardRedis & GuardCommands;
  readonly codec: ValueCodec<T>;
  readonly ttl: ResolvedCacheTtl;
  readonly timeoutMs: number;
  readonly random: () => number;
  readonly onFillError: (err: ScriptError, key: string) => void;
}

/** Validates the options shared by both read paths and registers the scripts. */
export function readPathContext<T>(options: ReadPathOptions, codec: ValueCodec<T>): ReadPathContext<T> {
  assertBoundedQueue(options.redis);
  return {
    ttl: resolveCacheTtl(options),
    timeoutMs: positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS),
    random: options.random ?? Math.random,
    onFillError: options.onFillError ?? (() => undefined),
    redis: defineGuardCommands(options.redis),
    codec,
  };
}

/** GETs `key` and decodes the stored layout (undefined: missing or foreign). */
export async function getStored(ctx: ReadPathContext<unknown>, key: string): Promise<StoredValue | undefined> {
  const raw = await guardedCall(`read cache key '${key}'`, ctx.timeoutMs, () => ctx.redis.getBuffer(key));
  return decodeStoredValue(raw);
}

/** A cached result when `stored` is an entry or known absent at `minVersion` or above. */
export function cachedResult<T>(ctx: ReadPathContext<T>, stored: StoredValue | undefined, minVersion: bigint): ReadResult<T> | undefined {
  if (!stored || stored.version < minVersion) return undefined;
  if (stored.state === 'entry') return { value: ctx.codec.decode(stored.data), version: stored.version, source: 'cache' };
  if (stored.state === 'absent') return { value: undefined, version: stored.version, source: 'cache' };
  return undefined;
}

/** Creates a version-guarded read-through cache. Throws ConfigError for invalid options. */
export function createReadThrough<T>(options: ReadThroughOptions<'json', T>): ReadThrough<T>;
export function createReadThrough(options: ReadThroughOptions<'bytes', Buffer>): ReadThrough<Buffer>;
export function createReadThrough<C extends ReadCodecName>(options: ReadThroughOptions<C, CodecValue<C>>): ReadThrough<CodecValue<C>> {
  type T = CodecValue<C>;
  const ctx = readPathContext<T>(options, readCodec(options.codec) as ValueCodec<T>);
  const flights = new SingleFlight<ReadResult<T>>();

  async function load(key: string, minVersion: bigint): Promise<ReadResult<T>> {
    const [startedAtMs, raw] = await guardedCall(`begin fill of '${key}'`, ctx.timeoutMs, () =>
      ctx.redis.outboxCacheBeginFillBuffer(key),
    );
    // Another process may have filled the key since our GET missed.
    const current = cachedResult(ctx, decodeStoredValue(raw), minVersion);
    if (current) return current;
    const loaded = normalize(await options.loader(key));
    const fill = await fillEntry(key, loaded, startedAtMs);
    return { value: loaded.value, version: loaded.version, source: 'database', fill };
  }

  async function fillEntry(key: string, loaded: NormalizedLoad<T>, startedAtMs: number): Promise<FillOutcome> {
    const absent = loaded.value === undefined;
    const args = absent
      ? ['A', ctx.ttl.negativeTtlMs, '']
      : ['E', jitteredTtl(ctx.ttl, ctx.random), ctx.codec.encode(loaded.value as T)];
    try {
      const reply = await guardedCall(`fill '${key}'`, ctx.timeoutMs, () =>
        ctx.redis.outboxCacheFillEntry(key, formatVersion(loaded.version), ...args, startedAtMs, ctx.ttl.tombstoneTtlMs),
      );
      return reply === 1 ? 'filled' : reply === -1 ? 'too-old' : 'refused';
    } catch (err) {
      ctx.onFillError(err as ScriptError, key);
      return 'failed';
    }
  }

  async function read(key: string, readOptions: ReadOptions = {}): Promise<ReadResult<T>> {
    const minVersion = readOptions.minVersion ?? 0n;
    const hit = cachedResult(ctx, await getStored(ctx, key), minVersion);
    if (hit) return hit;
    const shared = await flights.run(key, () => load(key, minVersion));
    // A flight started by another caller may predate this caller's own write.
    return shared.version >= minVersion ? shared : load(key, minVersion);
  }

  return { read, get: async (key, readOptions) => (await read(key, readOptions)).value };
}

interface NormalizedLoad<T> {
  readonly version: bigint;
  readonly value: T | undefined;
}

function normalize<T>(loaded: Loaded<T>): NormalizedLoad<T> {
  if (loaded === null) return { version: 0n, value: undefined };
  if ('absent' in loaded) return { version: loaded.version ?? 0n, value: undefined };
  return { version: loaded.version, value: loaded.value };
}
