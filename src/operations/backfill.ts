/**
 * `backfill` as a library call: scans a table in primary-key order, in bounded batches at a rate,
 * and writes each row into the cache through the guard as a reader's fill would (DESIGN.md §4):
 * leases on the batch's missing keys (floor 0) and tombstones (their floor), then the rows are
 * read, then filled under the leases; over an entry/absent at v < V the fill rule applies without
 * a lease; a newer state, another reader's lease or a sink write since the lease wins. In
 * `invalidate` mode it writes tombstones at the rows' versions through the sink's rule instead.
 * The cursor is stored after every batch, so an interrupted run resumes after the last one.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { jitteredTtl, resolveCacheTtl, type CacheTtlOptions, type ResolvedCacheTtl } from '../cache/cache-ttl.js';
import { defineGuardCommands, type GuardCommands } from '../cache/guard-scripts.js';
import { announceArgs } from '../cache/l1/invalidation-channel.js';
import { RedisCacheWriter } from '../cache/redis-cache-writer.js';
import { OutboxCacheError, errorMessage } from '../errors.js';
import { cursorKey, deleteCursor, loadCursor, saveCursor, scanIdentity } from './backfill-cursor.js';
import {
  BackfillRowError, aggregateIdOf, jsonSerializer, keyScanSql, parseVersion, quoteName, renderKey, rowsSql, versionTableSql,
  type BackfillSpec, type Row, type RowSerializer,
} from './backfill-spec.js';
import { createPacer } from './pacer.js';
import { perKeyReplies } from './redis-keys.js';

/** What a backfill did to the keys of the rows it scanned. */
export interface BackfillCounts {
  /** Rows scanned. */
  rows: number;
  /** Keys written: filled (fill mode) or tombstoned (invalidate mode). */
  written: number;
  /** Refused by the guard: an equal or newer state, or a sink write since the lease. */
  refused: number;
  /** Another reader held the key's lease: its own fill wins. */
  busy: number;
  /** Rows gone (deleted, or no longer matching --where) between the scan and the read. */
  gone: number;
  /** Keys holding another Redis type, left alone. */
  wrongType: number;
}

/** Options of {@link backfillNamespace}. */
export interface BackfillOptions {
  readonly redis: Redis | Cluster;
  readonly mysql: Pool;
  readonly spec: BackfillSpec;
  /** Prepended to every key (the sink's CACHE_KEY_PREFIX). */
  readonly keyPrefix?: string;
  /** Row → cached value. Default: JSON of `spec.columns` (all columns when unset). */
  readonly serializer?: RowSerializer;
  /** TTLs, as the sink and the read path use them. */
  readonly ttl?: CacheTtlOptions;
  /** TTL of the batch's leases, ms. Default 10,000. */
  readonly leaseTtlMs?: number;
  /** Rows per batch. Default 500. */
  readonly batchSize?: number;
  /** Batches going through Redis and MySQL at once (the cursor still moves in order). Default 2. */
  readonly batchesInFlight?: number;
  /** Most rows per second; undefined: no limit. */
  readonly rowsPerSecond?: number;
  /** Resume after a stored cursor (default true); false starts from the first row. */
  readonly resume?: boolean;
  /** Which command's cursor this is (default `backfill`; `rebuild` for a rebuild's backfill). */
  readonly cursorTag?: string;
  /** Count the rows to do first, for progress (one COUNT(*)). Default false. */
  readonly countTotal?: boolean;
  /** Stops between batches when aborted (the cursor is stored). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: { readonly counts: Readonly<BackfillCounts>; readonly total?: number }) => void;
}

/** What {@link backfillNamespace} did. */
export interface BackfillResult {
  readonly counts: BackfillCounts;
  readonly aborted: boolean;
  /** Rows done by earlier runs when this one resumed. */
  readonly resumedAfterRows?: number;
}

/** Thrown when MySQL or Redis fails during a backfill (retriable: run it again, it resumes). */
export class BackfillError extends OutboxCacheError {}

interface Context {
  readonly o: BackfillOptions;
  readonly redis: (Redis | Cluster) & GuardCommands;
  readonly ttl: ResolvedCacheTtl;
  readonly serializer: RowSerializer;
  readonly prefix: string;
}

/** Backfills one namespace; see the module comment for the guarantees. */
export async function backfillNamespace(o: BackfillOptions): Promise<BackfillResult> {
  const ctx: Context = {
    o, redis: defineGuardCommands(o.redis), ttl: resolveCacheTtl(o.ttl), prefix: o.keyPrefix ?? '',
    serializer: o.serializer ?? jsonSerializer(o.spec.columns),
  };
  const batchSize = o.batchSize ?? 500;
  const key = cursorKey(ctx.prefix, o.spec.namespace);
  const scan = scanIdentity(o.spec, o.cursorTag);
  const stored = o.resume === false ? undefined : await redisStep('read the cursor', () => loadCursor(o.redis, key));
  const resumed = stored?.scan === scan ? stored : undefined;
  let after: unknown = resumed?.after;
  const counts: BackfillCounts = { rows: 0, written: 0, refused: 0, busy: 0, gone: 0, wrongType: 0 };
  const total = o.countTotal ? await countRows(o, after) : undefined;
  const pacer = createPacer(o.rowsPerSecond, o.signal);
  const depth = o.batchesInFlight ?? 2;
  // Batches have disjoint keys, so several can be in flight; the cursor only moves past a batch
  // once it and every batch before it are done.
  const inFlight: { done: Promise<BackfillCounts>; after: unknown }[] = [];
  const finishOldest = async (): Promise<void> => {
    const oldest = inFlight.shift();
    if (!oldest) return;
    add(counts, await oldest.done);
    await redisStep('store the cursor', () =>
      saveCursor(o.redis, key, { scan, after: oldest.after as string | number, rows: (resumed?.rows ?? 0) + counts.rows }));
    o.onProgress?.({ counts, total });
  };
  let pending: Promise<Row[]> = scanRows(o, after, batchSize);
  let aborted = false;
  try {
    for (;;) {
      const rows = await pending;
      if (rows.length === 0) break;
      after = rows[rows.length - 1]?.[o.spec.pk];
      // The next batch's keys are read while this batch goes through Redis.
      pending = rows.length < batchSize ? Promise.resolve([]) : scanRows(o, after, batchSize);
      if (!(await pacer.take(rows.length))) {
        aborted = true;
        break;
      }
      const done = o.spec.mode === 'fill' ? fillBatch(ctx, rows) : invalidateBatch(ctx, rows);
      done.catch(() => undefined);
      inFlight.push({ done, after });
      if (inFlight.length >= depth) await finishOldest();
      if (o.signal?.aborted) {
        aborted = true;
        break;
      }
    }
    while (inFlight.length > 0) await finishOldest();
  } finally {
    await Promise.all([pending, ...inFlight.map((b) => b.done)].map((p) => p.catch(() => undefined)));
  }
  if (aborted) return { counts, aborted: true, resumedAfterRows: resumed?.rows };
  await redisStep('delete the cursor', () => deleteCursor(o.redis, key));
  return { counts, aborted: false, resumedAfterRows: resumed?.rows };
}

function add(into: BackfillCounts, from: BackfillCounts): void {
  for (const name of Object.keys(into) as (keyof BackfillCounts)[]) into[name] += from[name];
}

async function fillBatch(ctx: Context, scanned: readonly Row[]): Promise<BackfillCounts> {
  const { o, redis } = ctx;
  const counts: BackfillCounts = { rows: scanned.length, written: 0, refused: 0, busy: 0, gone: 0, wrongType: 0 };
  const keys = scanned.map((row) => ctx.prefix + renderKey(o.spec.key, row));
  const token = randomBytes(16).toString('hex');
  const leaseTtl = o.leaseTtlMs ?? 10_000;
  const taken = await redisStep('take leases', () =>
    perKeyReplies(redis, keys, (ix) => redis.outboxCacheAcquireLeases(ix.length, ...ix.map((i) => keys[i] ?? ''), token, leaseTtl)));
  const candidates = keys.flatMap((_k, i) => (taken[i] === 'l' || taken[i] === 'v' ? [i] : []));
  counts.busy = taken.filter((c) => c === 'w').length;
  counts.wrongType = taken.filter((c) => c === 'x').length;
  if (candidates.length === 0) return counts;
  // Read after the leases: a write committed before this read is either in the row, or its
  // invalidation replaced the lease (fill refused), or it raised the floor above the row's version.
  const leased = candidates.filter((i) => taken[i] === 'l').map((i) => keys[i] ?? '');
  let fresh: Map<string, { row: Row; version: bigint }>;
  let fills: { index: number; args: (string | number | Buffer)[] }[];
  try {
    fresh = await readRows(o, candidates.map((i) => scanned[i]?.[o.spec.pk]));
    fills = candidates.flatMap((index) => {
      const found = fresh.get(String(scanned[index]?.[o.spec.pk]));
      if (!found) return [];
      const value = ctx.serializer(found.row);
      const args = value === null
        ? [found.version.toString(), 'A', ctx.ttl.negativeTtlMs, '']
        : [found.version.toString(), 'E', jitteredTtl(ctx.ttl, Math.random), value];
      return [{ index, args }];
    });
  } catch (err) {
    await releaseLeases(ctx, leased, token);
    if (err instanceof OutboxCacheError) throw err;
    throw new BackfillRowError(`serialising a row of ${o.spec.table} failed: ${errorMessage(err)}`, { code: 'BACKFILL_SERIALIZER_FAILED', cause: err });
  }
  const filledIndexes = new Set(fills.map((f) => f.index));
  const goneLeased = candidates.filter((i) => !filledIndexes.has(i) && taken[i] === 'l').map((i) => keys[i] ?? '');
  counts.gone = candidates.length - fills.length;
  await releaseLeases(ctx, goneLeased, token);
  const fillKeys = fills.map((f) => keys[f.index] ?? '');
  const replies = await redisStep('fill', () => perKeyReplies(redis, fillKeys, (ix) =>
    redis.outboxCacheFillEntries(
      ix.length, ...ix.map((i) => fillKeys[i] ?? ''), token, ctx.ttl.tombstoneTtlMs, ...ix.flatMap((i) => fills[i]?.args ?? []),
      ...announceArgs(redis, fillKeys[ix[0] ?? 0] ?? ''),
    )));
  for (const reply of replies) {
    if (reply === '1') counts.written += 1;
    else if (reply === 'x') counts.wrongType += 1;
    else counts.refused += 1;
  }
  return counts;
}

async function releaseLeases(ctx: Context, keys: readonly string[], token: string): Promise<void> {
  await Promise.all(keys.map((key) => ctx.redis.outboxCacheReleaseLease(key, token, ctx.ttl.tombstoneTtlMs).catch(() => 0)));
}

async function invalidateBatch(ctx: Context, scanned: readonly Row[]): Promise<BackfillCounts> {
  const { o } = ctx;
  const counts: BackfillCounts = { rows: scanned.length, written: 0, refused: 0, busy: 0, gone: 0, wrongType: 0 };
  const keys = scanned.map((row) => ctx.prefix + renderKey(o.spec.key, row));
  const versions = 'column' in o.spec.version
    ? scanned.map((row) => parseVersion(row[(o.spec.version as { column: string }).column], `${o.spec.pk} ${String(row[o.spec.pk])}`))
    : await tableVersions(o, keys.map((k) => aggregateIdOf(o.spec, k.slice(ctx.prefix.length))));
  // Version 0: never written through the outbox, no version to stand a tombstone on.
  const actions = keys.flatMap((key, i) => ((versions[i] ?? 0n) > 0n ? [{ kind: 'invalidate' as const, key, version: versions[i] ?? 0n }] : []));
  counts.gone = keys.length - actions.length;
  const writer = new RedisCacheWriter({ redis: o.redis, ...o.ttl });
  const outcomes = await writer.applyBatch(actions);
  counts.written = outcomes.filter((x) => x === 'applied').length;
  counts.refused = outcomes.length - counts.written;
  return counts;
}

async function scanRows(o: BackfillOptions, after: unknown, limit: number): Promise<Row[]> {
  const { sql, params } = keyScanSql(o.spec, after, limit);
  return mysqlStep(`scan ${o.spec.table}`, async () => (await o.mysql.query<RowDataPacket[]>(sql, params))[0]);
}

async function countRows(o: BackfillOptions, after: unknown): Promise<number> {
  const { sql, params } = keyScanSql(o.spec, after, 1);
  const counted = sql.replace(/^SELECT .*? FROM /, 'SELECT COUNT(*) AS n FROM ').replace(/ ORDER BY .*$/, '');
  const [rows] = await mysqlStep(`count ${o.spec.table}`, () => o.mysql.query<RowDataPacket[]>(counted, params));
  return Number(rows[0]?.n ?? 0);
}

/** Rows of the primary keys `pks` (ascending) by key as text, with their versions, in one consistent snapshot. */
async function readRows(o: BackfillOptions, pks: readonly unknown[]): Promise<Map<string, { row: Row; version: bigint }>> {
  const spec = o.spec;
  const byPk = new Map<string, { row: Row; version: bigint }>();
  const read = async (conn: Pool | PoolConnection): Promise<void> => {
    const { sql, params } = rowsSql(spec, pks[0], pks[pks.length - 1]);
    const [rows] = await conn.query<RowDataPacket[]>(sql, params);
    const column = 'column' in spec.version ? spec.version.column : undefined;
    const ids = rows.map((row) => aggregateIdOf(spec, renderKey(spec.key, row)));
    let versions: bigint[];
    if (column !== undefined) versions = rows.map((row) => parseVersion(row[column], `${spec.pk} ${String(row[spec.pk])}`));
    else versions = await tableVersions(o, ids, conn);
    rows.forEach((row, i) => byPk.set(String(row[spec.pk]), { row, version: versions[i] ?? 0n }));
  };
  if ('column' in spec.version) {
    await mysqlStep(`read rows of ${spec.table}`, () => read(o.mysql));
    return byPk;
  }
  // The row and its outbox_version row are bumped in one transaction: read both in one snapshot.
  const conn = await mysqlStep('get a connection', () => o.mysql.getConnection());
  let open = false;
  try {
    await mysqlStep('start a snapshot', () => conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY'));
    open = true;
    await read(conn);
    await mysqlStep('end the snapshot', () => conn.query('COMMIT'));
    open = false;
  } finally {
    // Never hand a connection back to the pool inside a transaction.
    if (open) await conn.query('ROLLBACK').catch(() => undefined);
    conn.release();
  }
  return byPk;
}

async function tableVersions(o: BackfillOptions, ids: readonly string[], conn: Pool | PoolConnection = o.mysql): Promise<bigint[]> {
  if (ids.length === 0 || 'column' in o.spec.version) return [];
  const { sql, params } = versionTableSql(o.spec.version.table, o.spec.namespace, ids);
  const [rows] = await mysqlStep(`read ${quoteName(o.spec.version.table)}`, () => conn.query<RowDataPacket[]>(sql, params));
  const byId = new Map(rows.map((r) => [String(r.aggregateid), r.version as unknown]));
  return ids.map((id) => parseVersion(byId.get(id), `aggregate ${o.spec.namespace}:${id}`));
}

async function mysqlStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof OutboxCacheError) throw err;
    throw new BackfillError(`MySQL: cannot ${what}: ${errorMessage(err)}`, { code: 'BACKFILL_MYSQL_FAILED', retriable: true, cause: err });
  }
}

async function redisStep<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof OutboxCacheError) throw err;
    throw new BackfillError(`Redis: cannot ${what}: ${errorMessage(err)}`, { code: 'BACKFILL_REDIS_FAILED', retriable: true, cause: err });
  }
}
