/**
 * Deletes kept outbox rows (writer `keep` mode) older than a cut-off, in small batches so no
 * statement holds locks for long. Each batch is two autocommit statements: a non-locking read of
 * the oldest ids (served by the occurred_at index), then a DELETE of exactly those primary keys.
 * Deleting by primary key locks only those rows, never a range, so concurrent writers are not
 * blocked by gap locks. DELETEs of outbox rows produce no events (DESIGN.md §3).
 */
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { OutboxWriteError } from '../errors.js';
import { formatDateTime3, outboxTableName, SERVER_STATUS } from './sql.js';
import { isRetriableSqlError } from './writer.js';

/** Options of {@link purgeOutbox}. */
export interface PurgeOptions {
  /** Outbox table, `table` or `database.table`. Default `outbox`. */
  readonly table?: string;
  /** Delete rows whose occurred_at is more than this many milliseconds before now (> 0). */
  readonly olderThanMs: number;
  /** Rows per batch (1..10,000). Default 1000. */
  readonly batchSize?: number;
  /** Stops between batches; the rows deleted so far stay deleted. */
  readonly signal?: AbortSignal;
  /** Clock, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
  /** Called after each batch with the rows it deleted, e.g. for progress output. */
  readonly onBatch?: (deleted: number) => void;
}

/** Result of {@link purgeOutbox}. */
export interface PurgeResult {
  /** Rows deleted in total. */
  readonly deleted: number;
  /** The cut-off: rows with an earlier occurred_at were eligible (epoch ms, UTC). */
  readonly cutoffMs: number;
  /** True when stopped by the signal before the last batch. */
  readonly aborted: boolean;
}

/**
 * Purges old kept rows through `conn`, which must be in autocommit mode and not in a transaction
 * (otherwise every batch would pile up into one long transaction): rejects with OutboxWriteError
 * `OUTBOX_PURGE_IN_TRANSACTION` before deleting anything in that case.
 */
export async function purgeOutbox(conn: Connection, options: PurgeOptions): Promise<PurgeResult> {
  const table = outboxTableName(options.table);
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new OutboxWriteError(`batch size must be an integer in 1..10000, got ${batchSize}`, { code: 'OUTBOX_INVALID_OPTION' });
  }
  if (!Number.isFinite(options.olderThanMs) || options.olderThanMs <= 0) {
    throw new OutboxWriteError(`olderThanMs must be a positive number, got ${options.olderThanMs}`, { code: 'OUTBOX_INVALID_OPTION' });
  }
  const cutoffMs = (options.now ?? Date.now)() - options.olderThanMs;
  const cutoff = formatDateTime3(cutoffMs);

  const [status] = await run(() => conn.query<ResultSetHeader>('DO 0'));
  if (status.serverStatus & SERVER_STATUS.IN_TRANS || !(status.serverStatus & SERVER_STATUS.AUTOCOMMIT)) {
    throw new OutboxWriteError('purge needs a connection in autocommit mode outside any transaction', {
      code: 'OUTBOX_PURGE_IN_TRANSACTION',
    });
  }

  let deleted = 0;
  for (;;) {
    if (options.signal?.aborted) return { deleted, cutoffMs, aborted: true };
    const [rows] = await run(() =>
      conn.query<({ id: string } & RowDataPacket)[]>(
        `SELECT id FROM ${table.sql} WHERE occurred_at < ? ORDER BY occurred_at LIMIT ?`,
        [cutoff, batchSize],
      ),
    );
    if (rows.length === 0) break;
    const ids = rows.map((r) => r.id);
    // occurred_at is checked again in case a row with the same id was re-inserted meanwhile.
    const [result] = await run(() =>
      conn.query<ResultSetHeader>(`DELETE FROM ${table.sql} WHERE id IN (?) AND occurred_at < ?`, [ids, cutoff]),
    );
    deleted += result.affectedRows;
    options.onBatch?.(result.affectedRows);
    if (rows.length < batchSize) break;
  }
  return { deleted, cutoffMs, aborted: false };
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new OutboxWriteError(`outbox purge failed: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'OUTBOX_PURGE_FAILED',
      retriable: isRetriableSqlError(err),
      cause: err,
    });
  }
}
