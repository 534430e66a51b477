/**
 * The sink's CacheWriter: applies batches of cache actions through applyActions-n.lua, the
 * version guard's batch form. One script call per chunk of `maxKeysPerCall` actions, all chunks
 * written at once, so a batch costs one round trip; on Redis Cluster, chunks never mix hash
 * slots. Atomic per key; idempotent by version.
 */
import { OutboxCacheError, ScriptError } from '../errors.js';
import type { ApplyOutcome, CacheAction, CacheWriter } from './actions.js';
import { resolveCacheTtl, type CacheTtlOptions, type ResolvedCacheTtl } from './cache-ttl.js';
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
  /**
   * Most actions per script call; bounds how long one call holds Redis (about 6 µs per action).
   * Default 250. A batch's calls are sent together, so a batch still costs one round trip.
   */
  readonly maxKeysPerCall?: number;
  /**
   * Source of randomness in [0, 1): one seed per script call, from which the entries' TTLs of
   * that call are spread over [entryTtlMs × (1 − ttlJitter), entryTtlMs]. Default Math.random.
   */
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
    this.maxKeysPerCall = positiveInteger('maxKeysPerCall', options.maxKeysPerCall ?? 250);
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
    // Heads first: an invalid version rejects the batch before anything reaches Redis.
    const heads = actions.map(storedHead);
    const outcomes = new Array<ApplyOutcome>(actions.length);
    const wrongType: string[] = [];
    await Promise.all(
      this.chunks(actions).map(async (indexes) => {
        const keys = indexes.map((i) => actions[i]?.key ?? '');
        const packed = packActions(actions, heads, indexes, this.ttlTexts(actions, indexes));
        const what = `apply ${indexes.length} cache action(s) starting at key '${keys[0]}'`;
        const reply = await guardedCall(what, this.timeoutMs, () =>
          this.redis.outboxCacheApplyActions(keys.length, ...keys, packed),
        );
        if (typeof reply !== 'string' || reply.length !== indexes.length) {
          // Says something about the server (a proxy, a foreign script under our name), not the keys.
          throw new ScriptError(`${what}: unexpected reply from Redis`, { code: 'REDIS_REPLY_INVALID', retriable: true });
        }
        indexes.forEach((actionIndex, j) => {
          const code = reply[j];
          if (code === 'w') wrongType.push(keys[j] ?? '');
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

  /**
   * The TTL of each action of one script call, in ms as text: entries get entryTtlMs minus a
   * jitter, action j of the call `floor(span × frac(seed + j × φ))` for one random seed per call,
   * so each TTL is uniform over [entryTtlMs × (1 − ttlJitter), entryTtlMs] and the entries of a
   * call spread evenly over that range; tombstones and known-absent entries get their own TTLs.
   */
  private ttlTexts(actions: readonly CacheAction[], indexes: readonly number[]): string[] {
    const { entryTtlMs, ttlJitter, tombstoneTtlMs, negativeTtlMs } = this.ttl;
    const span = entryTtlMs - Math.floor(entryTtlMs * (1 - ttlJitter));
    const seed = this.random();
    return indexes.map((actionIndex, j) => {
      switch (actions[actionIndex]?.kind) {
        case 'upsert':
          return String(entryTtlMs - Math.floor(span * ((seed + j * PHI) % 1)));
        case 'invalidate':
          return String(tombstoneTtlMs);
        case 'delete':
          return String(negativeTtlMs);
        default:
          return '0';
      }
    });
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

const STATE_OF = { upsert: 'E', invalidate: 'T', delete: 'A' } as const;
/** The golden ratio's fractional part: consecutive multiples fill [0, 1) evenly. */
const PHI = 0.6180339887498949;

/**
 * The start of the value an action stores (`E<version>:`, `T<version>:`, `A<version>:`, `R0:`;
 * see applyActions-n.lua); an upsert's data follows it.
 */
function storedHead(action: CacheAction): string {
  if (action.kind === 'revoke-leases') return 'R0:';
  return `${STATE_OF[action.kind]}${checkedVersion(action.version)}:`;
}

/**
 * The packed actions of one script call, each `<length>;<ttl>;<value>` (see applyActions-n.lua).
 * One script argument for the whole call instead of five per action halves the client's work,
 * and Redis stores each value as it arrives.
 */
function packActions(actions: readonly CacheAction[], heads: readonly string[], indexes: readonly number[], ttls: readonly string[]): Buffer {
  const prefixes = indexes.map((i, j) => `${(heads[i]?.length ?? 0) + dataOf(actions[i]).length};${ttls[j]};${heads[i]}`);
  let size = 0;
  indexes.forEach((i, j) => (size += (prefixes[j]?.length ?? 0) + dataOf(actions[i]).length));
  const packed = Buffer.allocUnsafe(size);
  let offset = 0;
  indexes.forEach((i, j) => {
    offset += packed.write(prefixes[j] ?? '', offset, 'latin1');
    offset += dataOf(actions[i]).copy(packed, offset);
  });
  return packed;
}

function dataOf(action: CacheAction | undefined): Buffer {
  return action?.kind === 'upsert' ? action.value : EMPTY;
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
