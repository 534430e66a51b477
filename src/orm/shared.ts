/**
 * What the ORM adapters share, with no ORM imported here (each adapter is loaded on its own,
 * `outbox-cache/orm/<name>`): reading the driver results the ORMs hand back, and the refusal an
 * adapter raises when it is given a handle that holds no transaction.
 */
import { OutboxWriteError } from '../errors.js';
import type { ExecuteResult } from '../outbox/executor.js';

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
