/**
 * What every strategy of the lab implements, and what the lab gives it. A strategy is one way of
 * keeping a Redis cache next to the `lab_item` rows: its write path, its read path, and whatever
 * runs beside them (a relay, a queue consumer, a flusher). Adding a row to the lab's table is one
 * more {@link StrategyDefinition} in strategies/index.ts.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import type { AvroCodec } from '../codec/codec.js';
import type { WriterSchema } from '../codec/types.js';
import type { LoadedItem } from './item-table.js';

/** What a cache key holds, as the auditor sees it. `missing` also covers foreign bytes. */
export type KeyState =
  | { readonly state: 'missing' }
  | { readonly state: 'entry' | 'absent' | 'tombstone' | 'lease'; readonly version: bigint };

/** One read as the application saw it. */
export interface StrategyRead {
  /** Served from the cache (true) or from the database (false). */
  readonly hit: boolean;
  readonly version: bigint;
}

/** What the lab hands a strategy. Each strategy gets its own key prefix and its own rows. */
export interface StrategyContext {
  /** Name of the strategy: its rows in `lab_item` carry it. */
  readonly name: string;
  /** Prefix of this strategy's Redis keys (nothing else writes under it). */
  readonly keyPrefix: string;
  /** Client through the lab's fault proxy: errors while a Redis fault is on. Offline queue off. */
  readonly redis: Redis;
  /** Opens another client through the proxy (for a consumer or relay writer of the strategy). */
  readonly newRedis: () => Redis;
  /** The writers' pool on the primary. */
  readonly writePool: Pool;
  /** The database URL with the lab's database selected (for a binlog connection). */
  readonly databaseUrl: string;
  /** The lab's database name. */
  readonly database: string;
  /**
   * The codec of outbox events (over the in-process registry of the shipped schemas) and the
   * writer schema of the lab's events, for strategies that publish through an outbox.
   */
  readonly events: { readonly codec: AvroCodec; readonly schema: WriterSchema };
  /** TTL of cache entries, ms (long: the lab wants to see what stays stale). */
  readonly entryTtlMs: number;
  /**
   * The readers' database read: counts it, reads the primary (or the lagging replica while that
   * fault is on), then pauses the configured random 0..N ms before returning, so that the fill
   * that follows races concurrent writes.
   */
  readonly load: (id: number) => Promise<LoadedItem>;
  /**
   * Records ground truth: `version` of `id` is committed (for write-behind: acknowledged) now,
   * with the `name` it wrote (to find acknowledged writes that never reached the database). Call
   * it the moment the commit returns, before any later step of the write.
   */
  readonly committed: (id: number, version: bigint, name: string) => void;
  /**
   * The app-death fault: true when the process "dies" at this point of a write (after its
   * commit, before its cache operation). The write must then return without its remaining steps.
   */
  readonly diesHere: () => boolean;
  /** Told about errors of background work (a consumer's failed delete, a relay's retry). */
  readonly onBackgroundError: (err: unknown) => void;
}

/** Something a strategy runs beside the application: a relay, a queue consumer, a binlog tail. */
export interface BackgroundWorker {
  /** What it is, for the fault schedule ("relay", "queue consumer", "binlog tail"). */
  readonly label: string;
  /** Kills it (in-flight work is abandoned, as a crashed process would). */
  kill(): Promise<void>;
  /** Starts it again from where its durable state says. */
  restart(): Promise<void>;
}

/** A running strategy. */
export interface LabStrategy {
  /** Writes a new value of item `id` the strategy's way. Calls `ctx.committed` on commit. */
  write(id: number): Promise<void>;
  /** Reads item `id` the strategy's way. */
  read(id: number): Promise<StrategyRead>;
  /**
   * What the strategy's key of each of `ids` holds now, read with `redis` (the auditor's own
   * client, not the app's: the app's connections are what the Redis faults break). One round trip.
   */
  peek(ids: readonly number[], redis: Redis): Promise<Map<number, KeyState>>;
  /** The app died: drop what only lived in its memory (queued flushes, scheduled deletes). */
  crash(): void;
  /** Background workers the relay-crash fault kills and restarts. */
  readonly workers: readonly BackgroundWorker[];
  /**
   * True once nothing the strategy owes is pending: every committed write relayed, queued
   * deletes consumed, scheduled deletes run, write-behind flushed. `latest` is the truth book's
   * highest version per id.
   */
  settled(latest: ReadonlyMap<number, bigint>): Promise<boolean>;
  /** Stops background work. */
  stop(): Promise<void>;
}

/** A strategy the lab can run: its name, how it works, what breaks it, and its factory. */
export interface StrategyDefinition {
  /** Short name, used in `--strategies`, key prefixes and the table. Lowercase, dashes. */
  readonly name: string;
  /** One line: the steps, as its proponents describe them. */
  readonly steps: string;
  /** Plain reading of its failure mode, for the report. */
  readonly failureMode: string;
  /** True for this project's strategy (the bench line reports it apart). */
  readonly ours?: boolean;
  /** Ground truth is the acknowledged version, not a commit (write-behind): lost writes apply. */
  readonly acknowledgesBeforeCommit?: boolean;
  readonly create: (ctx: StrategyContext) => Promise<LabStrategy>;
}
