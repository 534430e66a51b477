/**
 * Recipe (b) of DESIGN.md §2: aggregate versions kept in a project-owned table,
 * `outbox_version(aggregatetype, aggregateid, version)`, so that a version survives the delete
 * and re-create of the domain row. One statement under the aggregate's row lock:
 *
 *   INSERT INTO outbox_version (aggregatetype, aggregateid, version) VALUES (?, ?, LAST_INSERT_ID(1))
 *   ON DUPLICATE KEY UPDATE version = LAST_INSERT_ID(version + 1)
 *
 * The server returns the new version in the statement's OK packet (LAST_INSERT_ID(expr) sets the
 * packet's insert id), so this costs one round trip on MySQL and MariaDB alike; a MariaDB
 * compound statement would not save one.
 */
import { readFile } from 'node:fs/promises';
import { OutboxWriteError } from '../errors.js';
import { outboxTableName } from './sql.js';
import { versionFromInsertId, type SqlExecutor } from './version.js';
import { isRetriableSqlError } from './writer.js';

/** Default name of the version table. */
export const DEFAULT_VERSION_TABLE = 'outbox_version';

/** Location of the version table's DDL (ships with the package next to `dist/`). */
export const VERSION_DDL_FILE = new URL('../../schemas/sql/002-outbox-version.sql', import.meta.url);

const AGGREGATE_TYPE = /^[A-Za-z0-9_]{1,64}$/;

/** Options of {@link nextVersion}. */
export interface NextVersionOptions {
  /** Version table, `table` or `database.table`. Default `outbox_version`. */
  readonly table?: string;
}

/**
 * Takes the next version of aggregate (`aggregateType`, `aggregateId`) inside the caller's
 * transaction and resolves to it (1 for an aggregate never seen, then 2, 3, …, also after the
 * domain row was deleted). The row lock is held until the caller's COMMIT or ROLLBACK, so
 * concurrent writers of one aggregate get versions in commit order; a rollback gives the version
 * back. Use it for inserts, updates and deletes alike, e.g.
 *
 * ```ts
 * await withOutboxTransaction(conn, async (publish) => {
 *   const version = await nextVersion(conn, 'user', String(id));
 *   await conn.query('DELETE FROM users WHERE id = ?', [id]);
 *   await publish({ aggregateType: 'user', aggregateId: String(id), type: 'UserDeleted', version, ... });
 * });
 * ```
 *
 * `executor` is a mysql2/promise Connection or PoolConnection (not a Pool: the statement must run
 * on the transaction's connection), or any object with the same `query(sql, values)` (see
 * {@link SqlExecutor}). Rejects with OutboxWriteError `OUTBOX_INVALID_EVENT` for a bad aggregate
 * type or id, `OUTBOX_WRITE_FAILED` when the statement fails (`retriable` for deadlocks, lock
 * wait timeouts and lost connections: retry the whole transaction).
 */
export async function nextVersion(
  executor: SqlExecutor, aggregateType: string, aggregateId: string, options: NextVersionOptions = {},
): Promise<bigint> {
  if (typeof aggregateType !== 'string' || !AGGREGATE_TYPE.test(aggregateType)) {
    throw new OutboxWriteError(`aggregate type must match [A-Za-z0-9_]{1,64}, got '${String(aggregateType)}'`, { code: 'OUTBOX_INVALID_EVENT' });
  }
  if (typeof aggregateId !== 'string' || aggregateId.length === 0 || [...aggregateId].length > 255) {
    throw new OutboxWriteError('aggregate id must be a non-empty string of at most 255 characters', { code: 'OUTBOX_INVALID_EVENT' });
  }
  const table = outboxTableName(options.table ?? DEFAULT_VERSION_TABLE);
  let insertId: number | string;
  try {
    const [result] = await executor.query(
      `INSERT INTO ${table.sql} (aggregatetype, aggregateid, version) VALUES (?, ?, LAST_INSERT_ID(1)) ` +
        'ON DUPLICATE KEY UPDATE version = LAST_INSERT_ID(version + 1)',
      [aggregateType, aggregateId],
    );
    insertId = (result as { insertId: number | string }).insertId;
  } catch (err) {
    throw new OutboxWriteError(`next version of ${aggregateType} '${aggregateId}' failed: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'OUTBOX_WRITE_FAILED',
      retriable: isRetriableSqlError(err),
      cause: err,
    });
  }
  return versionFromInsertId(insertId, executor);
}

/** Result of {@link migrateVersionTable}. */
export interface MigrateVersionTableResult {
  /** Quoted table name. */
  readonly table: string;
  /** False when the table already existed (and was left as it was). */
  readonly created: boolean;
}

/**
 * Creates the version table (schemas/sql/002-outbox-version.sql) if needed, in `database` (default:
 * the connection's), and checks its columns. Idempotent. Rejects with OutboxWriteError
 * `OUTBOX_TABLE_MISMATCH` when an existing table lacks a column nextVersion uses.
 */
export async function migrateVersionTable(executor: SqlExecutor, options: { readonly database?: string } = {}): Promise<MigrateVersionTableResult> {
  const table = outboxTableName(options.database ? `${options.database}.${DEFAULT_VERSION_TABLE}` : DEFAULT_VERSION_TABLE);
  const columns = async (): Promise<Map<string, string>> => {
    const [rows] = await executor.query(
      `SELECT COLUMN_NAME AS name, LOWER(DATA_TYPE) AS type FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`,
      [table.database ?? null, table.table],
    );
    return new Map((rows as { name: string; type: string }[]).map((r) => [r.name.toLowerCase(), r.type]));
  };
  const before = await columns();
  const ddl = (await readFile(VERSION_DDL_FILE, 'utf8'))
    .split('\n').filter((line) => !line.trimStart().startsWith('--')).join('\n').trim().replace(/;$/, '')
    .replace('CREATE TABLE IF NOT EXISTS `outbox_version`', `CREATE TABLE IF NOT EXISTS ${table.sql}`);
  await executor.query(ddl);
  const after = await columns();
  const problems = Object.entries({ aggregatetype: 'varchar', aggregateid: 'varchar', version: 'bigint' })
    .filter(([name, type]) => after.get(name) !== type)
    .map(([name, type]) => `column ${name} should be ${type}${after.has(name) ? `, is ${after.get(name)}` : ' but is missing'}`);
  if (problems.length > 0) {
    throw new OutboxWriteError(`table ${table.sql} exists but does not match the version table: ${problems.join('; ')}`, { code: 'OUTBOX_TABLE_MISMATCH' });
  }
  return { table: table.sql, created: before.size === 0 };
}
