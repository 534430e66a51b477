/**
 * Aggregate versions taken under the row lock (DESIGN.md §2). The UPDATE that changes the domain
 * row also increments its version and hands the new value back through `LAST_INSERT_ID(expr)`,
 * which the server returns in the OK packet: no extra SELECT, and because the row stays locked
 * until COMMIT, version order is commit order.
 */
import type { Connection, ResultSetHeader } from 'mysql2/promise';
import { OutboxWriteError } from '../errors.js';
import type { SqlParam } from './sql.js';
import { isRetriableSqlError } from './writer.js';

/**
 * The one method the version helpers call on a connection, as mysql2/promise's Connection and
 * PoolConnection (and ORM adapters wrapping them) provide it: runs `sql` with `?` placeholders
 * bound to `values` and resolves to `[result, fields]`, where an INSERT/UPDATE's `result` has
 * `insertId` (a number, or decimal text above 2^53 with `supportBigNumbers`) and a SELECT's is
 * an array of row objects.
 */
export interface SqlExecutor {
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
}

const LAST_INSERT_ID_CALL = /LAST_INSERT_ID\s*\(\s*[^)\s]/i;

/**
 * Runs a single-row versioned UPDATE inside the caller's transaction and resolves to the new
 * version (1..2^63-1) as a bigint, e.g.
 *
 * ```ts
 * const version = await updateWithVersion(conn,
 *   'UPDATE users SET name = ?, version = LAST_INSERT_ID(version + 1) WHERE id = ?', [name, id]);
 * await publishEvent(conn, { aggregateType: 'user', aggregateId: String(id), version, ... });
 * ```
 *
 * `sql` must assign the version through `LAST_INSERT_ID(<expr>)` and match exactly one row.
 * Rejects with OutboxWriteError `OUTBOX_VERSION_ROW_NOT_FOUND` (no row matched: roll back or
 * insert the aggregate with version 1), `OUTBOX_VERSION_AMBIGUOUS` (several rows matched),
 * `OUTBOX_VERSION_SQL` (no `LAST_INSERT_ID(expr)` in `sql`) or `OUTBOX_WRITE_FAILED` (the
 * statement failed; `cause` holds the mysql2 error). After any rejection the UPDATE may have
 * run: roll the transaction back.
 */
export async function updateWithVersion(conn: Connection, sql: string, params: readonly SqlParam[] = []): Promise<bigint> {
  if (!LAST_INSERT_ID_CALL.test(sql)) {
    throw new OutboxWriteError('the versioned UPDATE must set the version with LAST_INSERT_ID(version + 1)', { code: 'OUTBOX_VERSION_SQL' });
  }
  let result: ResultSetHeader;
  try {
    [result] = await conn.execute<ResultSetHeader>(sql, [...params]);
  } catch (err) {
    throw new OutboxWriteError(`versioned update failed: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'OUTBOX_WRITE_FAILED',
      retriable: isRetriableSqlError(err),
      cause: err,
    });
  }
  if (result.affectedRows === 0) {
    throw new OutboxWriteError('versioned update matched no row', { code: 'OUTBOX_VERSION_ROW_NOT_FOUND' });
  }
  if (result.affectedRows > 1) {
    throw new OutboxWriteError(`versioned update matched ${result.affectedRows} rows; it must match exactly one`, {
      code: 'OUTBOX_VERSION_AMBIGUOUS',
    });
  }
  return versionFromInsertId(result.insertId as number | string, conn);
}

/**
 * mysql2 reports the id as a number, or as a decimal string above 2^53 when the connection has
 * `supportBigNumbers`; without that option a big value arrives rounded, so it is read again
 * exactly as text.
 */
export async function versionFromInsertId(insertId: number | string, conn: SqlExecutor): Promise<bigint> {
  let version: bigint;
  if (typeof insertId === 'number' && !Number.isSafeInteger(insertId)) {
    const [rows] = await conn.query('SELECT CAST(LAST_INSERT_ID() AS CHAR) AS v');
    version = BigInt((rows as { v?: string }[])[0]?.v ?? '0');
  } else {
    version = BigInt(insertId);
  }
  if (version < 1n) {
    throw new OutboxWriteError('versioned update produced no version: LAST_INSERT_ID(expr) was not evaluated', {
      code: 'OUTBOX_VERSION_SQL',
    });
  }
  return version;
}
