/**
 * The embedded relay: tails the outbox table in the binlog and hands committed events, in commit
 * order and in batches, to an `apply` function (Redis through the sink's step, or Kafka through
 * {@link createKafkaApply}). Its position is stored in MySQL only after `apply` resolved for
 * every event before it, so a restart re-delivers at worst and never loses an event.
 */
import type { ConnectionOptions } from 'mysql2';
import type { Pool } from 'mysql2/promise';
import { ConfigError, type ConfigProblem } from '../errors.js';
import type { OutboxEvent } from '../outbox/event.js';
import { checkBinlogSettings, checkOutboxTable, checkPositionAvailable, binlogEnd, listBinlogFiles, serverId } from './binlog-server.js';
import { BinlogTail } from './binlog-tail.js';
import { RelayError } from './errors.js';
import { silentLogger, type RelayLogger } from './logger.js';
import { formatPosition, type BinlogPosition } from './position.js';
import { DEFAULT_POSITION_TABLE, MySqlPositionStore } from './position-store.js';
import { RelayLockKeeper } from './relay-lock.js';
import { RelayLoop, type RelayStats, type RelayTuning } from './relay-loop.js';
import { DEFAULT_QUERY_TIMEOUT_MS } from './timed-query.js';

/**
 * Applies a batch of events (commit order) downstream. Resolves once every event is durably
 * applied; rejects with a retriable error (OutboxCacheError with `retriable`) on an outage, after
 * which the whole batch is retried (it must be idempotent), or a non-retriable one to stop the relay.
 */
export type RelayApply = (events: readonly OutboxEvent[]) => Promise<unknown>;

/** Options of {@link startRelay}. Durations in milliseconds. */
export interface RelayOptions extends RelayTuning {
  /**
   * A pool of the relay's own on the source server: position store and checks. Do not share it
   * with busy writers: position writes wait for it.
   */
  readonly pool: Pool;
  /**
   * mysql2 options of the binlog connection (same server; needs REPLICATION SLAVE and CLIENT).
   * The relay's lock gets a connection of its own with the same options.
   */
  readonly connection: ConnectionOptions;
  /** Database of the outbox table; the position table is created there too. */
  readonly database: string;
  /** Names this relay's stored position and lock; one running relay per name. */
  readonly relayName: string;
  readonly apply: RelayApply;
  /** Stops the relay: the in-flight batch finishes (or is abandoned while it waits to retry). */
  readonly signal: AbortSignal;
  /** Outbox table name. Default `outbox`. */
  readonly table?: string;
  /** Position table name. Default `outbox_relay_position`. */
  readonly positionTable?: string;
  readonly logger?: RelayLogger;
  /** Replica server id of the binlog connection. Default: derived from database and relay name. */
  readonly serverId?: number;
  /** Where a relay with no stored position starts. Default: the current end of the binlog. */
  readonly startAt?: BinlogPosition;
  /**
   * Replication heartbeat period asked of the server, ms (0: none). A stream silent for
   * `3 × heartbeatMs + 1 s` is taken as lost and reopened. Default 5,000.
   */
  readonly heartbeatMs?: number;
  /** How often the relay's lock is verified, ms. Default 5,000. */
  readonly lockCheckIntervalMs?: number;
  /** Deadline of each query the relay makes on `pool` and on its lock connection, ms. Default 10,000. */
  readonly queryTimeoutMs?: number;
}

/** A running relay. */
export interface Relay {
  /** Resolves once stopped by `signal`; rejects with the error that stopped it otherwise. */
  readonly done: Promise<void>;
  /** Counters and positions, for logs and metrics. */
  stats(): RelayStats;
  /** Bytes of binlog between the applied position and the server's end (`SHOW BINARY LOGS`). */
  binlogLagBytes(): Promise<number>;
  /** Times the lock was retaken after its connection was lost. */
  readonly lockRetakes: () => number;
}

const NAME = /^[A-Za-z0-9_$]{1,64}$/;
const RELAY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * Checks the server and the outbox table, takes the relay's lock, loads (or, on first start,
 * stores) its position and starts streaming. Resolves once the binlog stream is open: every
 * transaction committed after the stored position, including those committed from now on, will be
 * applied. Throws ConfigError for bad options and RelayError for a server it cannot relay from.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  validate(options);
  const logger = options.logger ?? silentLogger;
  const table = options.table ?? 'outbox';
  const positionTable = options.positionTable ?? DEFAULT_POSITION_TABLE;
  const { pool, relayName, database } = options;
  await checkBinlogSettings(pool);
  await checkOutboxTable(pool, database, table);
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
  const store = new MySqlPositionStore(pool, database, positionTable, queryTimeoutMs);
  await store.ensureTable();
  let loop: RelayLoop | undefined;
  const lockStop = new AbortController();
  const lock = await RelayLockKeeper.acquire({
    connection: options.connection, database, relayName, logger,
    checkIntervalMs: options.lockCheckIntervalMs, queryTimeoutMs, retryDelays: options.retryDelays,
    signal: AbortSignal.any([options.signal, lockStop.signal]),
    onLost: (err) => loop?.failWith(err),
  });
  const release = async (): Promise<void> => {
    lockStop.abort();
    await lock.release();
  };
  try {
    const sourceId = await serverId(pool);
    const files = await listBinlogFiles(pool);
    const stored = await store.load(relayName);
    if (stored && stored.serverId !== sourceId) {
      throw new RelayError(
        `relay '${relayName}' stored its position on server id ${stored.serverId}, but this server's id is ${sourceId}: binlog offsets do not carry over between servers. Rebuild the cache, then delete the relay's row to start at the end of this server's binlog.`,
        { code: 'RELAY_POSITION_OTHER_SERVER' },
      );
    }
    const start = stored ?? options.startAt ?? binlogEnd(files);
    checkPositionAvailable(start, files, relayName);
    if (!stored) {
      // Stored before streaming, so events committed from now on survive a crash before the first checkpoint.
      await store.save(relayName, start, sourceId);
      logger.info({ relay: relayName, position: formatPosition(start) }, 'first start: position stored');
    }
    const running = new RelayLoop({
      ...options,
      logger,
      store: { save: (p) => store.save(relayName, p, sourceId) },
      guard: () => lock.ensure(),
      openTail: async (from, handlers) => {
        await lock.ensure();
        checkPositionAvailable(from, await listBinlogFiles(pool), relayName);
        return BinlogTail.start({
          connection: options.connection,
          serverId: options.serverId ?? defaultReplicaServerId(database, relayName),
          database, table, positionTable, ...handlers,
          chunkEvents: options.maxBatchEvents ?? 500,
          heartbeatMs: options.heartbeatMs,
          openTimeoutMs: queryTimeoutMs + 5_000,
        }, from);
      },
      start,
    });
    loop = running;
    await running.open();
    logger.info({ relay: relayName, position: formatPosition(start), table: `${database}.${table}` }, 'relay streaming');
    const done = running.run().finally(release);
    done.catch(() => {});
    return {
      done,
      stats: () => {
        const stats = running.stats();
        // Waiting to retake the lock is an outage too: nothing is applied meanwhile.
        return stats.state === 'streaming' && lock.retakingNow ? { ...stats, state: 'paused' } : stats;
      },
      binlogLagBytes: async () => lagBytes(running.stats().appliedPosition, await listBinlogFiles(pool)),
      lockRetakes: () => lock.retakes,
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/** Bytes from `position` to the end of the last file. Pure. */
export function lagBytes(position: BinlogPosition, files: readonly { readonly file: string; readonly size: number }[]): number {
  const index = files.findIndex((f) => f.file === position.file);
  if (index < 0) return 0;
  return files.slice(index).reduce((sum, f) => sum + f.size, 0) - position.position;
}

/**
 * Replica server id derived from the database and relay name (FNV-1a), in [10^9, 2·10^9): stable
 * across restarts and unlikely to collide with ids given to real replicas.
 */
export function defaultReplicaServerId(database: string, relayName: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${database}\0${relayName}`, 'utf8')) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return 1_000_000_000 + (hash % 1_000_000_000);
}

function validate(options: RelayOptions): void {
  const problems: ConfigProblem[] = [];
  const name = (setting: string, value: string | undefined, pattern: RegExp): void => {
    if (value !== undefined && !pattern.test(value)) problems.push({ setting, message: `'${value}' must match ${pattern.source}` });
  };
  name('database', options.database, NAME);
  name('table', options.table, NAME);
  name('positionTable', options.positionTable, NAME);
  name('relayName', options.relayName, RELAY_NAME);
  const positive = (setting: string, value: number | undefined, min: number): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) problems.push({ setting, message: `must be an integer ≥ ${min}` });
  };
  positive('serverId', options.serverId, 1);
  positive('maxBatchEvents', options.maxBatchEvents, 1);
  positive('batchLingerMs', options.batchLingerMs, 0);
  positive('maxQueuedEvents', options.maxQueuedEvents, 1);
  positive('checkpointIntervalMs', options.checkpointIntervalMs, 1);
  positive('heartbeatMs', options.heartbeatMs, 0);
  positive('lockCheckIntervalMs', options.lockCheckIntervalMs, 1);
  positive('queryTimeoutMs', options.queryTimeoutMs, 1);
  if (options.serverId !== undefined && options.serverId > 2 ** 32 - 1) problems.push({ setting: 'serverId', message: 'must be < 2^32' });
  if (options.startAt && (!options.startAt.file || options.startAt.position < 4)) {
    problems.push({ setting: 'startAt', message: 'needs a binlog file name and a position ≥ 4' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
}
