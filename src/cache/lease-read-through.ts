/**
 * Read path for keys without a per-aggregate version (derived keys spanning aggregates): leases
 * instead of versions. A miss takes a lease (acquireLease-1.lua) before the database read; the
 * fill (fillLease-1.lua) stores the value only while that lease still stands. The sink's
 * `revoke-leases` action deletes the key, revoking every lease, so a reader that began before an
 * invalidation can never fill. Leases expire after `leaseTtlMs`, so a crashed reader blocks no one.
 */
import { randomBytes } from 'node:crypto';
import type { ScriptError } from '../errors.js';
import { jitteredTtl } from './cache-ttl.js';
import { readCodec, type CodecValue, type ReadCodecName, type ValueCodec } from './read-codec.js';
import { guardedCall, positiveInteger } from './redis-calls.js';
import {
  cachedResult, getStored, readPathContext,
  type FillOutcome, type ReadPathContext, type ReadPathOptions, type ReadResult,
} from './read-through.js';
import { SingleFlight } from './single-flight.js';
import { decodeStoredValue } from './stored-value.js';

/** Options of {@link createLeaseReadThrough}. */
export interface LeaseReadThroughOptions<C extends ReadCodecName, T> extends ReadPathOptions {
  /** How values are stored: `json` or `bytes`. */
  readonly codec: C;
  /** Computes the value from the database; null when there is none (cached as known absent). */
  readonly loader: (key: string) => Promise<{ readonly value: T } | null>;
  /**
   * How long a lease stands, in ms: a load slower than this does not fill. Default 10,000.
   */
  readonly leaseTtlMs?: number;
}

/** A lease-guarded read-through cache. */
export interface LeaseReadThrough<T> {
  /** The value for `key` (undefined when absent), from Redis or the database. */
  get(key: string): Promise<T | undefined>;
  /** Like get, with where the value came from and what the fill did (version is always 0n). */
  read(key: string): Promise<ReadResult<T>>;
}

/** Creates a lease-guarded read-through cache. Throws ConfigError for invalid options. */
export function createLeaseReadThrough<T>(options: LeaseReadThroughOptions<'json', T>): LeaseReadThrough<T>;
export function createLeaseReadThrough(options: LeaseReadThroughOptions<'bytes', Buffer>): LeaseReadThrough<Buffer>;
export function createLeaseReadThrough<C extends ReadCodecName>(
  options: LeaseReadThroughOptions<C, CodecValue<C>>,
): LeaseReadThrough<CodecValue<C>> {
  type T = CodecValue<C>;
  const ctx = readPathContext<T>(options, readCodec(options.codec) as ValueCodec<T>);
  const leaseTtlMs = positiveInteger('leaseTtlMs', options.leaseTtlMs ?? 10_000);
  const flights = new SingleFlight<ReadResult<T>>();

  async function load(key: string): Promise<ReadResult<T>> {
    const token = randomBytes(16).toString('hex');
    const [kind, payload] = await guardedCall(`acquire lease on '${key}'`, ctx.timeoutMs, () =>
      ctx.redis.outboxCacheAcquireLeaseBuffer(key, token, leaseTtlMs),
    );
    if (kind.toString() === 'v') {
      const current = cachedResult(ctx, decodeStoredValue(payload), 0n);
      if (current) return current;
    }
    const loaded = await options.loader(key);
    // 'n': the key holds a tombstone (it is version-managed), so no lease and no fill.
    const fill = kind.toString() === 'l' && payload ? await fillLease(ctx, key, payload.toString(), loaded) : 'refused';
    return { value: loaded?.value, version: 0n, source: 'database', fill };
  }

  async function read(key: string): Promise<ReadResult<T>> {
    const hit = cachedResult(ctx, await getStored(ctx, key), 0n);
    return hit ?? flights.run(key, () => load(key));
  }

  return { read, get: async (key) => (await read(key)).value };
}

async function fillLease<T>(
  ctx: ReadPathContext<T>, key: string, token: string, loaded: { readonly value: T } | null,
): Promise<FillOutcome> {
  const args = loaded === null
    ? ['A', ctx.ttl.negativeTtlMs, '']
    : ['E', jitteredTtl(ctx.ttl, ctx.random), ctx.codec.encode(loaded.value)];
  try {
    const reply = await guardedCall(`fill '${key}' under lease`, ctx.timeoutMs, () =>
      ctx.redis.outboxCacheFillLease(key, token, ...args),
    );
    return reply === 1 ? 'filled' : 'refused';
  } catch (err) {
    ctx.onFillError(err as ScriptError, key);
    return 'failed';
  }
}
