/**
 * `flush` as a library call: SCANs a namespace and turns every entry, "known absent" and lease
 * into a tombstone at its own version (a lease at its floor) through the guard's batch script,
 * never a DEL, so the version floors survive and no fill that began before can land. Rate
 * limited; a dry run only counts the keys by state.
 */
import type { Cluster, Redis } from 'ioredis';
import { defineGuardCommands } from '../cache/guard-scripts.js';
import { announceArgs } from '../cache/l1/invalidation-channel.js';
import { decodeStoredValue } from '../cache/stored-value.js';
import { OutboxCacheError, errorMessage } from '../errors.js';
import { createPacer } from './pacer.js';
import { namespacePattern, perKeyReplies, scanKeys } from './redis-keys.js';

/** Keys seen by state (before the flush); a key SCAN returned twice counts twice. */
export interface FlushCounts {
  /** Keys turned into tombstones (or, in a dry run, that would be). */
  entries: number;
  absents: number;
  leases: number;
  /** Left alone: already tombstones, gone since the SCAN, foreign strings, other types. */
  tombstones: number;
  missing: number;
  foreign: number;
  wrongType: number;
}

/** Options of {@link flushNamespace}. */
export interface FlushOptions {
  readonly redis: Redis | Cluster;
  readonly namespace: string;
  readonly keyPrefix?: string;
  /** TTL of the tombstones written, ms (the sink's tombstone TTL). */
  readonly tombstoneTtlMs: number;
  /** Most keys per second; undefined: no limit. */
  readonly keysPerSecond?: number;
  /** SCAN COUNT hint. Default 500. */
  readonly scanCount?: number;
  readonly dryRun?: boolean;
  /** Stops between SCAN steps when aborted. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (counts: Readonly<FlushCounts>) => void;
}

/** What {@link flushNamespace} did. */
export interface FlushResult {
  readonly counts: FlushCounts;
  readonly aborted: boolean;
}

/** Thrown when Redis fails during a flush (retriable: running the flush again is safe). */
export class FlushError extends OutboxCacheError {}

const COUNTED: Readonly<Record<string, keyof FlushCounts>> = {
  e: 'entries', a: 'absents', l: 'leases', t: 'tombstones', m: 'missing', f: 'foreign', x: 'wrongType',
};

/** Flushes every key `<keyPrefix><namespace>:*`. Safe to repeat and to run beside the sink and readers. */
export async function flushNamespace(options: FlushOptions): Promise<FlushResult> {
  const redis = defineGuardCommands(options.redis);
  const counts: FlushCounts = { entries: 0, absents: 0, leases: 0, tombstones: 0, missing: 0, foreign: 0, wrongType: 0 };
  const pacer = createPacer(options.keysPerSecond, options.signal);
  const pattern = namespacePattern(options.keyPrefix ?? '', options.namespace);
  try {
    for await (const keys of scanKeys(redis, pattern, options.scanCount ?? 500)) {
      if (!(await pacer.take(keys.length))) return { counts, aborted: true };
      const replies = options.dryRun
        ? await Promise.all(keys.map((key) => stateChar(redis, key)))
        : await perKeyReplies(redis, keys, (indexes) =>
          redis.outboxCacheTombstoneEntries(
            indexes.length, ...indexes.map((i) => keys[i] ?? ''), options.tombstoneTtlMs, ...announceArgs(redis, keys[indexes[0] ?? 0] ?? ''),
          ));
      for (const reply of replies) {
        const field = COUNTED[reply];
        if (field) counts[field] += 1;
      }
      options.onProgress?.(counts);
      if (options.signal?.aborted) return { counts, aborted: true };
    }
  } catch (err) {
    throw new FlushError(`flush of ${options.namespace} failed: ${errorMessage(err)}`, { code: 'FLUSH_REDIS_FAILED', retriable: true, cause: err });
  }
  return { counts, aborted: false };
}

/** The reply character tombstoneEntries-n would give, read without changing anything. */
async function stateChar(redis: Redis | Cluster, key: string): Promise<string> {
  const head = await redis.getrangeBuffer(key, 0, 20).catch((err: unknown) => {
    if (/WRONGTYPE/.test(errorMessage(err))) return undefined;
    throw err;
  });
  if (head === undefined) return 'x';
  if (head.length === 0) return (await redis.exists(key)) === 1 ? 'f' : 'm';
  const decoded = decodeStoredValue(head);
  if (!decoded) return 'f';
  return { entry: 'e', absent: 'a', lease: 'l', tombstone: 't' }[decoded.state];
}
