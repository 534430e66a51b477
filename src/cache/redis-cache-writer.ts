/**
 * The sink's CacheWriter: applies batches of cache actions through applyActions-n.lua, the
 * version guard's batch form. One script call per chunk of `maxKeysPerCall` actions on a single
 * node, so a batch costs one round trip; on Redis Cluster, one call per hash slot (chunks of
 * different slots go out concurrently). Atomic per key; idempotent by version.
 */
import { OutboxCacheError, ScriptError } from '../errors.js';
import type { ApplyOutcome, CacheAction, CacheWriter } from './actions.js';
import { jitteredTtl, resolveCacheTtl, type CacheTtlOptions, type ResolvedCacheTtl } from './cache-ttl.js';
import { defineGuardCommands, type GuardCommands, type GuardRedis } from './guard-scripts.js';
import { keySlot } from './key-slot.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, assertBoundedQueue, guardedCall, positiveInteger } from './redis-calls.js';
import { formatVersion } from './stored-value.js';

/** Options of {@link RedisCacheWriter}. TTL options must match the read path's. */
export interface RedisCacheWriterOptions extends CacheTtlOptions {
  /**
   * ioredis client (Redis or Cluster). Its `keyPrefix`, if any, applies to every cache key. A
   * client with the offline queue on and `maxRetriesPerRequest: null` is refused (ConfigError).
   */
  readonly redis: GuardRedis;
  /** Deadline of one script call in ms; past it the batch fails with REDIS_UNAVAILABLE. Default 2,000. */
  readonly commandTimeoutMs?: number;
  /** Most actions per script call: bounds how long one call holds Redis. Default 1,000. */
  readonly maxKeysPerCall?: number;
  /** Source of randomness in [0, 1) for TTL jitter. Default Math.random. */
  readonly random?: () => number;
}

const EMPTY = Buffer.alloc(0);

/** {@link CacheWriter} over the guard's Lua batch script. Safe to share between partitions. */
export class RedisCacheWriter implements CacheWriter {
  private readonly redis: GuardRedis & GuardCommands;
  private readonly ttl: ResolvedCacheTtl;
  private readonly timeoutMs: number;
  private readonly maxKeysPerCall: number;
  private readonly random: () => number;
  private readonly keyPrefix: string;

  /** Throws ConfigError for invalid TTLs or a client that could queue commands forever. */
  constructor(options: RedisCacheWriterOptions) {
    assertBoundedQueue(options.redis);
    this.ttl = resolveCacheTtl(options);
    this.timeoutMs = positiveInteger('commandTimeoutMs', options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    this.maxKeysPerCall = positiveInteger('maxKeysPerCall', options.maxKeysPerCall ?? 1_000);
    this.random = options.random ?? Math.random;
    this.redis = defineGuardCommands(options.redis);
    // ioredis prefixes KEYS itself; the slot must be computed on the prefixed key.
    this.keyPrefix = (options.redis.options as { keyPrefix?: string }).keyPrefix ?? '';
  }

  /**
   * Applies `actions`, returning one outcome per action in order. Rejects with a retriable
   * ScriptError (`REDIS_UNAVAILABLE`) when Redis cannot be reached in time: some chunks may then
   * have applied, and re-applying the whole batch is safe. Rejects with a non-retriable
   * ScriptError (`CACHE_KEY_WRONG_TYPE`) naming the keys that hold a non-string Redis value (the
   * other actions were applied) and with `CACHE_VERSION_INVALID` for a version outside
   * 1 .. 2^63-1 (nothing applied).
   */
  async applyBatch(actions: readonly CacheAction[]): Promise<ApplyOutcome[]> {
    if (actions.length === 0) return [];
    // Encoding first: an invalid version rejects the batch before anything reaches Redis.
    const encoded = actions.map((action) => this.encode(action));
    const outcomes = new Array<ApplyOutcome>(actions.length);
    const wrongType: string[] = [];
    await Promise.all(
      this.chunks(actions).map(async (indexes) => {
        const n = indexes.length;
        // numKeys, the n keys, then four arguments per action, built in one array for speed.
        const args = new Array<string | Buffer>(1 + 5 * n);
        args[0] = String(n);
        indexes.forEach((actionIndex, j) => {
          args[1 + j] = actions[actionIndex]?.key ?? '';
          const [kind, version, ttl, data] = encoded[actionIndex] ?? [];
          const at = 1 + n + 4 * j;
          args[at] = kind ?? '';
          args[at + 1] = version ?? '';
          args[at + 2] = ttl ?? '';
          args[at + 3] = data ?? EMPTY;
        });
        const what = `apply ${n} cache action(s) starting at key '${args[1]}'`;
        const reply = await guardedCall(what, this.timeoutMs, () =>
          this.redis.outboxCacheApplyActions(...(args as [string, ...(string | Buffer)[]])),
        );
        if (typeof reply !== 'string' || reply.length !== n) {
          throw new ScriptError(`${what}: unexpected reply from Redis`, { code: 'REDIS_REPLY_INVALID' });
        }
        indexes.forEach((actionIndex, j) => {
          const code = reply[j];
          if (code === 'w') wrongType.push(actions[actionIndex]?.key ?? '');
          outcomes[actionIndex] = code === '1' ? 'applied' : 'stale';
        });
      }),
    );
    if (wrongType.length > 0) {
      const listed = wrongType.slice(0, 5).map((k) => `'${k}'`).join(', ');
      throw new ScriptError(
        `${wrongType.length} cache key(s) hold a non-string Redis value and were left untouched: ${listed}` +
          `${wrongType.length > 5 ? ', …' : ''}; delete them or fix the key mapping`,
        { code: 'CACHE_KEY_WRONG_TYPE' },
      );
    }
    return outcomes;
  }

  /** The four script arguments of one action: kind, version, TTL in ms, data. */
  private encode(action: CacheAction): [string, string, string, Buffer] {
    switch (action.kind) {
      case 'upsert':
        return ['u', checkedVersion(action.version), String(jitteredTtl(this.ttl, this.random)), action.value];
      case 'invalidate':
        return ['i', checkedVersion(action.version), String(this.ttl.tombstoneTtlMs), EMPTY];
      case 'delete':
        return ['d', checkedVersion(action.version), String(this.ttl.negativeTtlMs), EMPTY];
      case 'revoke-leases':
        return ['r', '0', '0', EMPTY];
    }
  }

  /** Action indexes per script call: chunks in order (single node) or per slot (cluster). */
  private chunks(actions: readonly CacheAction[]): number[][] {
    const groups = new Map<number, number[]>();
    if (!this.redis.isCluster) groups.set(0, actions.map((_a, i) => i));
    else {
      actions.forEach((action, i) => {
        const slot = keySlot(this.keyPrefix + action.key);
        const group = groups.get(slot);
        if (group) group.push(i);
        else groups.set(slot, [i]);
      });
    }
    const result: number[][] = [];
    for (const group of groups.values()) {
      for (let start = 0; start < group.length; start += this.maxKeysPerCall) {
        result.push(group.slice(start, start + this.maxKeysPerCall));
      }
    }
    return result;
  }
}

/** Sink versions are aggregate versions: 1 .. 2^63-1 (0 is reserved for lease-managed keys). */
function checkedVersion(version: bigint): string {
  if (version === 0n) {
    throw new OutboxCacheError('cache action version 0 is reserved; aggregate versions start at 1', {
      code: 'CACHE_VERSION_INVALID',
    });
  }
  return formatVersion(version);
}
