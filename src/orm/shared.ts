/**
 * What the ORM adapters share, with no ORM imported here (each adapter is loaded on its own,
 * `outbox-cache/orm/<name>`): reading the driver results the ORMs hand back, the refusal an
 * adapter raises when it is given a handle that holds no transaction, and `nextVersion` over an
 * adapter's executor.
 */
import { OutboxWriteError } from '../errors.js';
import { serverInTransaction, type ExecuteResult, type OutboxExecutor } from '../outbox/executor.js';
import type { SqlParam } from '../outbox/sql.js';
import { nextVersion, type NextVersionOptions } from '../outbox/version-table.js';
import type { SqlExecutor } from '../outbox/version.js';

/**
 * Normalises what mysql2 or the mariadb connector returned for one statement: an array of rows
 * for a SELECT, an OK packet (`affectedRows`, `insertId`, mysql2 also `serverStatus`) otherwise.
 */
export function driverResult(raw: unknown): ExecuteResult {
  if (Array.isArray(raw)) return { affectedRows: 0, rows: raw as Record<string, unknown>[] };
  if (typeof raw !== 'object' || raw === null) return { affectedRows: 0 };
  const ok = raw as { affectedRows?: unknown; insertId?: unknown; serverStatus?: unknown };
  const insertId = ok.insertId;
  return {
    affectedRows: Number(ok.affectedRows ?? 0),
    ...(typeof insertId === 'number' || typeof insertId === 'bigint' || typeof insertId === 'string' ? { insertId } : {}),
    ...(typeof ok.serverStatus === 'number' ? { serverStatus: ok.serverStatus } : {}),
  };
}

/**
 * The refusal of every adapter, `OUTBOX_NOT_IN_TRANSACTION`, with advice in the ORM's own terms
 * (`what` names the handle the caller should pass instead).
 */
export function notInOrmTransaction(orm: string, what: string): OutboxWriteError {
  return new OutboxWriteError(
    `${orm}: no transaction is open on this handle, so publishing now would commit the event on its own. Pass ${what}`,
    { code: 'OUTBOX_NOT_IN_TRANSACTION' },
  );
}

/**
 * `nextVersion` (the outbox_version table, DESIGN.md §2 recipe b) through an adapter's executor,
 * refused like a publish (`OUTBOX_NOT_IN_TRANSACTION`) when the handle holds no transaction: a
 * version taken in autocommit would be committed apart from the event that uses it. Where the
 * ORM does not hand back the OK packet's insert id (Prisma), `LAST_INSERT_ID()` is read on the
 * same connection.
 */
export async function nextVersionVia(
  executor: OutboxExecutor, aggregateType: string, aggregateId: string, options?: NextVersionOptions,
): Promise<bigint> {
  const known = await executor.inTransaction();
  if (known === false || (known === undefined && !(await serverInTransaction(executor)))) {
    throw new OutboxWriteError('no transaction is open on this handle: a version taken now would commit on its own', { code: 'OUTBOX_NOT_IN_TRANSACTION' });
  }
  const bridge: SqlExecutor = {
    async query(sql, values = []) {
      const result = await executor.execute(sql, values as SqlParam[]);
      if (/^\s*SELECT\b/i.test(sql)) return [result.rows ?? [], undefined];
      if (result.insertId !== undefined) return [{ ...result, insertId: typeof result.insertId === 'bigint' ? String(result.insertId) : result.insertId }, undefined];
      const [row] = (await executor.execute('SELECT CAST(LAST_INSERT_ID() AS CHAR) AS v')).rows ?? [];
      return [{ affectedRows: result.affectedRows, insertId: String(row?.v ?? '0') }, undefined];
    },
  };
  return nextVersion(bridge, aggregateType, aggregateId, options).catch((err: unknown) => {
    // An adapter's own refusal (e.g. Prisma's ended transaction) surfaces as it is, not as a failed write.
    const cause = (err as { cause?: unknown }).cause;
    throw cause instanceof OutboxWriteError && cause.code === 'OUTBOX_NOT_IN_TRANSACTION' ? cause : err;
  });
}
