/**
 * The outbox writer for mysql2/promise (DESIGN.md §2): adds one event row to the caller's open
 * transaction, so the event commits (or rolls back) together with the domain rows. By default
 * the row is deleted again in the same transaction: the binlog keeps the INSERT, the table stays
 * empty.
 */
import type { Connection, Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { guardTransaction } from './transaction-guard.js';
import { OutboxWriteError } from '../errors.js';
import type { OutboxEvent } from './event.js';
import { serverInTransaction, sqlErrorFields, type ExecuteResult, type OutboxExecutor } from './executor.js';
import {
  deleteEventSql, formatDateTime3, insertEventSql, isTransactional, mariadbPublishSql, NOT_IN_TRANSACTION_SIGNAL,
  outboxTableName, SERVER_STATUS, type OutboxTableName, type SqlParam,
} from './sql.js';
import { prepareOutboxEvent, type NewOutboxEvent } from './validate.js';

/** Options of the writer. */
export interface OutboxWriterOptions {
  /** Outbox table, `table` or `database.table`. Default `outbox`. */
  readonly table?: string;
  /**
   * Keep the row after inserting it (for audits or a poller); remove old rows later with
   * `outbox-cache outbox purge`. Default false: delete it in the same transaction.
   */
  readonly keep?: boolean;
  /**
   * On MariaDB, send the transaction check, the INSERT and its DELETE in one round trip as an
   * anonymous compound statement (`BEGIN NOT ATOMIC ... END`, checking `@@in_transaction` and
   * `@@autocommit`). Default true. MySQL, which has no anonymous blocks, always gets the portable
   * path (status-flag check, INSERT, DELETE: three round trips), as does `false`. The binlog is
   * the same either way.
   */
  readonly mariadbCompound?: boolean;
  /** Clock for events without `occurredAt`, epoch ms. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Publishes `event` inside the transaction open on `conn` and resolves to the event exactly as
 * the relay or Debezium will read it from the binlog.
 *
 * Order of work: the event is validated and Avro-encoded first (an {@link InvalidOutboxEventError}
 * names the bad field and nothing is sent). Then the writer checks that `conn` is in a
 * transaction (or has autocommit off), so an event can never be committed on its own, and
 * INSERTs the row and, unless `keep`, DELETEs it. On MariaDB the check, INSERT and DELETE go in
 * one round trip (see `mariadbCompound`); elsewhere the check is {@link assertInTransaction}
 * followed by two statements. SQL failures reject with an OutboxWriteError whose `cause` is the
 * mysql2 error; `retriable` is true only when retrying the whole transaction may succeed
 * (deadlock, lock wait timeout, lost connection). The caller's transaction decides the outcome.
 */
export async function publishEvent(
  conn: Connection | PoolConnection,
  event: NewOutboxEvent,
  options: OutboxWriterOptions = {},
): Promise<OutboxEvent> {
  const table = outboxTableName(options.table);
  const prepared = prepareOutboxEvent(event, options.now);
  if (isPool(conn)) throw notInTransaction('publishEvent needs the connection that holds your transaction, not a Pool (use pool.getConnection() or withOutboxTransaction)');
  return writeEvent(mysql2Executor(conn), prepared, table, options, true);
}

/**
 * Publishes `event` through any {@link OutboxExecutor} (what the ORM adapters in src/orm/ call):
 * the same validation, transaction check, statements and errors as {@link publishEvent}. Refused
 * with `OUTBOX_NOT_IN_TRANSACTION`, before anything is written, unless the executor says its
 * transaction is open or, when it cannot tell, the server does.
 */
export async function publishEventWith(
  executor: OutboxExecutor,
  event: NewOutboxEvent,
  options: OutboxWriterOptions = {},
): Promise<OutboxEvent> {
  const table = outboxTableName(options.table);
  const prepared = prepareOutboxEvent(event, options.now);
  return writeEvent(executor, prepared, table, options, true);
}

/**
 * Writes a validated event. `check`: first make sure the session cannot autocommit the row (the
 * helper, which holds autocommit off itself, skips it where the check would cost a round trip).
 */
async function writeEvent(executor: OutboxExecutor, event: OutboxEvent, table: OutboxTableName, options: OutboxWriterOptions, check: boolean): Promise<OutboxEvent> {
  const keep = options.keep === true;
  // An adapter's refusal passes through; a failed server check is a failed write.
  const known = check ? await Promise.resolve().then(() => executor.inTransaction()).catch(wrap('transaction check')) : true;
  if (known === false) throw notInTransaction(NOT_IN_TRANSACTION_ADVICE);
  const row: SqlParam[] = [
    event.id, event.aggregateType, event.aggregateId, event.type,
    event.version, formatDateTime3(event.occurredAtMs), event.payload,
  ];
  if (options.mariadbCompound !== false && (check || !keep) && executor.mariadb === true) {
    const text = mariadbPublishSql(table, { check, keep });
    const result = await sql(executor, 'insert', text, keep ? row : [...row, event.id]).catch((err: unknown) => {
      throw isSignalled(err) ? notInTransaction(NOT_IN_TRANSACTION_ADVICE) : err;
    });
    if (result.affectedRows !== (keep ? 1 : 2)) throw unexpected('insert', result.affectedRows, keep ? 1 : 2);
    return event;
  }
  if (known === undefined && !(await serverInTransaction(executor).catch(wrap('transaction check')))) {
    throw notInTransaction(NOT_IN_TRANSACTION_ADVICE);
  }
  const inserted = await sql(executor, 'insert', insertEventSql(table), row);
  if (inserted.affectedRows !== 1) throw unexpected('insert', inserted.affectedRows, 1);
  if (!keep) {
    const deleted = await sql(executor, 'delete', deleteEventSql(table), [event.id]);
    if (deleted.affectedRows !== 1) throw unexpected('delete', deleted.affectedRows, 1);
  }
  return event;
}

const NOT_IN_TRANSACTION_ADVICE =
  'no transaction is open on this connection: publishing now would commit the event on its own. ' +
  'Call it between beginTransaction() and commit(), or use withOutboxTransaction()';

/**
 * Rejects with OutboxWriteError `OUTBOX_NOT_IN_TRANSACTION` unless a statement sent on `conn`
 * now would stay uncommitted until the caller commits. Portable (MySQL 8 and MariaDB): one round
 * trip (`DO 0`) whose OK packet carries the protocol's SERVER_STATUS_IN_TRANS and
 * SERVER_STATUS_AUTOCOMMIT flags, which both servers set the same way; `@@in_transaction` would
 * be MariaDB-only. A Pool is refused outright: each of its queries may run on another connection.
 */
export async function assertInTransaction(conn: Connection | PoolConnection): Promise<void> {
  if (isPool(conn)) throw notInTransaction('a Pool is never in a transaction: use the connection that holds yours');
  const status = await query(conn, 'transaction check', 'DO 0');
  if (!isTransactional(status.serverStatus)) throw notInTransaction(NOT_IN_TRANSACTION_ADVICE);
}

function notInTransaction(message: string): OutboxWriteError {
  return new OutboxWriteError(message, { code: 'OUTBOX_NOT_IN_TRANSACTION' });
}

function isPool(conn: Connection): boolean {
  return typeof (conn as Partial<Pool>).getConnection === 'function';
}

/** The SIGNAL raised by the check inside {@link mariadbPublishSql} (ER_SIGNAL_EXCEPTION). */
function isSignalled(err: unknown): boolean {
  const server = sqlErrorFields(err);
  return server.errno === 1644 && server.message === NOT_IN_TRANSACTION_SIGNAL;
}

/** Publishes one event in the transaction of {@link withOutboxTransaction}. */
export type PublishFn = (event: NewOutboxEvent) => Promise<OutboxEvent>;

/**
 * Runs `fn` in a new transaction and commits when it resolves, or rolls back and rethrows when
 * it rejects. `db` is a Pool (a connection is taken and always released; destroyed if its state
 * is unknown; pooled connections are expected in autocommit mode, the mysql2 default) or a
 * Connection not already in a transaction. `publish` only works while `fn` runs.
 *
 * The transaction is opened with `SET autocommit = 0` rather than START TRANSACTION: no
 * statement autocommits while `fn` runs, so `publish` needs no per-event transaction check. A
 * statement can still end the transaction: an explicit COMMIT/ROLLBACK, or one with an implicit
 * commit (DDL, LOCK TABLES, START TRANSACTION, ...), after which a failure of `fn` would undo only
 * what came after it. The `conn` given to `fn` therefore refuses those (its `commit()`,
 * `rollback()`, `beginTransaction()`, and such statements in `query`/`execute`) with
 * OutboxWriteError `OUTBOX_TRANSACTION_ESCAPE` before sending them (see transaction-guard.ts for
 * what it cannot see). Setting autocommit back to 1 commits
 * (documented MySQL and MariaDB behaviour): the same round trips as START TRANSACTION/COMMIT.
 * A failed commit rejects with OutboxWriteError `OUTBOX_COMMIT_FAILED` (if the connection was
 * lost, whether the transaction committed is unknown).
 */
export async function withOutboxTransaction<T>(
  db: Pool | Connection,
  fn: (conn: Connection, publish: PublishFn) => Promise<T>,
  options: OutboxWriterOptions = {},
): Promise<T> {
  const table = outboxTableName(options.table);
  const pool = typeof (db as Partial<Pool>).getConnection === 'function' ? (db as Pool) : undefined;
  const conn: Connection | PoolConnection = pool ? await pool.getConnection().catch(wrap('connect')) : db;
  let open = false;
  let healthy = true;
  let autocommitWasOn = true;
  const executor = mysql2Executor(conn);
  const publish: PublishFn = async (event) => {
    if (!open) throw new OutboxWriteError('publish was called outside its transaction', { code: 'OUTBOX_NOT_IN_TRANSACTION' });
    return writeEvent(executor, prepareOutboxEvent(event, options.now), table, options, false);
  };
  try {
    if (!pool) {
      // Opening a transaction would silently commit whatever the caller already had open.
      const status = (await query(conn, 'transaction check', 'DO 0')).serverStatus;
      if (status & SERVER_STATUS.IN_TRANS) {
        throw new OutboxWriteError('withOutboxTransaction was given a connection that is already in a transaction; use publishEvent there', {
          code: 'OUTBOX_ALREADY_IN_TRANSACTION',
        });
      }
      autocommitWasOn = (status & SERVER_STATUS.AUTOCOMMIT) !== 0;
    }
    try {
      await query(conn, 'begin', 'SET autocommit = 0');
    } catch (err) {
      healthy = false;
      throw err;
    }
    open = true;
    let result: T;
    try {
      result = await fn(guardTransaction(conn), publish);
    } catch (err) {
      open = false;
      healthy = await rollbackQuietly(conn, autocommitWasOn);
      throw err;
    }
    open = false;
    try {
      await conn.query(autocommitWasOn ? 'SET autocommit = 1' : 'COMMIT');
    } catch (err) {
      healthy = await rollbackQuietly(conn, autocommitWasOn);
      throw new OutboxWriteError(`commit failed: ${messageOf(err)}`, { code: 'OUTBOX_COMMIT_FAILED', retriable: isRetriableSqlError(err), cause: err });
    }
    return result;
  } finally {
    open = false;
    if (pool) {
      const pooled = conn as PoolConnection;
      if (healthy) pooled.release();
      else pooled.destroy();
    }
  }
}

/** Rolls back and restores autocommit; false when that failed, i.e. the connection's state is unknown. */
async function rollbackQuietly(conn: Connection, autocommitWasOn: boolean): Promise<boolean> {
  try {
    await conn.query('ROLLBACK');
    if (autocommitWasOn) await conn.query('SET autocommit = 1');
    return true;
  } catch {
    return false;
  }
}

async function sql(executor: OutboxExecutor, what: string, text: string, params: SqlParam[]): Promise<ExecuteResult> {
  return executor.execute(text, params).catch(wrap(what));
}

async function query(conn: Connection, what: string, text: string): Promise<ResultSetHeader> {
  const [result] = await conn.query<ResultSetHeader>(text).catch(wrap(what));
  return result;
}

/**
 * The {@link OutboxExecutor} over a mysql2/promise connection: parameters go as a prepared
 * statement, the transaction check reads the OK packet's status flags (`DO 0`, one round trip),
 * and on MariaDB the writer sends its statements as one compound statement.
 */
export function mysql2Executor(conn: Connection): OutboxExecutor {
  return {
    async execute(text, params) {
      const [result] = params === undefined ? await conn.query(text) : await conn.execute(text, [...params]);
      if (Array.isArray(result)) return { affectedRows: 0, rows: result as RowDataPacket[] };
      const header = result as ResultSetHeader;
      return { affectedRows: header.affectedRows, insertId: header.insertId, serverStatus: header.serverStatus };
    },
    inTransaction: () => undefined,
    mariadb: isMariaDb(conn),
  };
}

/**
 * Rethrows a driver or ORM error as OutboxWriteError `OUTBOX_WRITE_FAILED`, keeping it as
 * `cause`; the project's own errors (an adapter's refusal) pass through as they are.
 */
function wrap(what: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof OutboxWriteError) throw err;
    throw new OutboxWriteError(`outbox ${what} failed: ${messageOf(err)}`, {
      code: 'OUTBOX_WRITE_FAILED',
      retriable: isRetriableSqlError(err),
      cause: err,
    });
  };
}

function unexpected(what: string, affected: number, expected: number): OutboxWriteError {
  return new OutboxWriteError(`outbox ${what} affected ${affected} rows instead of ${expected}`, { code: 'OUTBOX_WRITE_FAILED' });
}

/**
 * True when mysql2 saw a MariaDB server in the handshake. mysql2 keeps that on the underlying
 * connection without a public accessor; if it ever disappears this returns false and the writer
 * takes the portable path (two more round trips per publish, same result).
 */
function isMariaDb(conn: Connection): boolean {
  return (conn as unknown as { connection?: { _isMariaDB?: unknown } }).connection?._isMariaDB === true;
}

// ER_LOCK_WAIT_TIMEOUT, ER_LOCK_DEADLOCK: the server rolled back (part of) the transaction; a
// fresh attempt of the whole transaction may succeed. mysql2 marks lost connections `fatal`.
const RETRIABLE_ERRNOS = new Set([1205, 1213]);

/**
 * True when a server error (from mysql2, or wrapped by an ORM: see {@link sqlErrorFields}) means
 * "retry the whole transaction later" rather than "bad input".
 */
export function isRetriableSqlError(err: unknown): boolean {
  const server = sqlErrorFields(err);
  return server.fatal === true || (server.errno !== undefined && RETRIABLE_ERRNOS.has(server.errno));
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
