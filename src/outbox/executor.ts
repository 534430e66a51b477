/**
 * The one small interface the outbox writer needs from a database client: run a statement with
 * `?` placeholders inside the caller's transaction, and say whether that transaction is open.
 * mysql2 connections and every ORM adapter (src/orm/) implement it, so the outbox SQL is built
 * in one place (writer.ts) whatever the application's data layer.
 */
import { OutboxWriteError } from '../errors.js';
import { isTransactional, type SqlParam } from './sql.js';

/** What a statement returned, normalised across drivers and ORMs. */
export interface ExecuteResult {
  /** Rows changed (INSERT/UPDATE/DELETE); 0 for a SELECT. */
  readonly affectedRows: number;
  /** `LAST_INSERT_ID()` as the server reported it in the OK packet, when the client exposes it. */
  readonly insertId?: bigint | number | string;
  /** Result rows of a SELECT, when there are any; column names as selected. */
  readonly rows?: readonly Readonly<Record<string, unknown>>[];
  /** The OK packet's SERVER_STATUS flags, when the client exposes them (mysql2 does). */
  readonly serverStatus?: number;
}

/**
 * A database session the writer can publish through. Every statement must run on the same
 * server session (connection) as the caller's domain writes, or the outbox row would commit
 * apart from them.
 */
export interface OutboxExecutor {
  /** Runs one statement; `params` bind to its `?` placeholders in order. Rejects with the driver's (or ORM's) error. */
  execute(sql: string, params?: readonly SqlParam[]): Promise<ExecuteResult>;
  /**
   * What the client knows about the session's transaction without a round trip: `true` (the
   * ORM opened one and has not ended it), `false` (certainly none, e.g. a pool), or `undefined`
   * (cannot tell: the writer asks the server, see {@link serverInTransaction}). An adapter may
   * instead throw its own `OUTBOX_NOT_IN_TRANSACTION` error, with advice in the ORM's terms.
   */
  inTransaction(): boolean | undefined | Promise<boolean | undefined>;
  /**
   * The server is known to be MariaDB, so the writer may send its statements as one anonymous
   * compound statement that also checks the transaction server-side. Unknown: the portable path.
   */
  readonly mariadb?: boolean;
}

/**
 * Asks the server whether a statement sent on `executor` now would stay uncommitted until the
 * caller commits (a transaction is open, or autocommit is off). One round trip (`DO 0`) when the
 * client reports the OK packet's status flags (mysql2); otherwise `@@autocommit` and
 * `@@in_transaction` on MariaDB, or on MySQL (which has no `@@in_transaction`) InnoDB's list of
 * open transactions: there a transaction that has not yet touched an InnoDB table is not listed
 * and the answer is a (safe) false.
 */
export async function serverInTransaction(executor: OutboxExecutor): Promise<boolean> {
  const probe = await executor.execute('DO 0');
  if (probe.serverStatus !== undefined) return isTransactional(probe.serverStatus);
  const [server] = (await executor.execute("SELECT @@autocommit AS ac, VERSION() LIKE '%MariaDB%' AS maria")).rows ?? [];
  if (!server) throw new OutboxWriteError('the transaction check returned no row', { code: 'OUTBOX_WRITE_FAILED' });
  if (Number(server.ac) === 0) return true;
  const [trx] = (
    await executor.execute(
      Number(server.maria) === 1
        ? 'SELECT @@in_transaction AS open'
        : 'SELECT COUNT(*) AS open FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()',
    )
  ).rows ?? [];
  return Number(trx?.open) > 0;
}

/** Error fields of a MySQL/MariaDB server error, found in an error or any error it wraps. */
export interface SqlErrorFields {
  readonly errno?: number;
  readonly message?: string;
  readonly fatal?: boolean;
}

const WRAPPED = ['cause', 'parent', 'original', 'driverError'] as const;

/**
 * Finds the server error inside whatever an ORM wrapped it in (TypeORM `driverError`,
 * Sequelize `parent`, Drizzle and Prisma `cause`, Prisma's `meta.driverAdapterError`), so
 * retriability and the writer's own SIGNAL are recognised the same way through every adapter.
 */
export function sqlErrorFields(err: unknown): SqlErrorFields {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const e = current as Record<string, unknown>;
    const errno = typeof e.errno === 'number' ? e.errno : typeof e.code === 'number' ? e.code : undefined;
    if (errno !== undefined) {
      const message = typeof e.sqlMessage === 'string' ? e.sqlMessage : typeof e.message === 'string' ? e.message : undefined;
      return { errno, ...(message === undefined ? {} : { message }), fatal: e.fatal === true };
    }
    if (e.fatal === true) return { fatal: true };
    const meta = e.meta as { driverAdapterError?: unknown } | undefined;
    current = WRAPPED.map((k) => e[k]).find((v) => typeof v === 'object' && v !== null) ?? meta?.driverAdapterError;
  }
  return {};
}
