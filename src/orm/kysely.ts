/**
 * Kysely adapter (`outbox-cache/orm/kysely`): publishes inside `db.transaction().execute(...)`
 * (or a controlled transaction from `db.startTransaction()`), over Kysely's MysqlDialect.
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('users').set({ name }).where('id', '=', id).execute();
 *   await publishEvent(trx, userChanged(user));
 * });
 * ```
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { OutboxEvent } from '../outbox/event.js';
import { serverInTransaction, type OutboxExecutor } from '../outbox/executor.js';
import type { NewOutboxEvent } from '../outbox/validate.js';
import type { NextVersionOptions } from '../outbox/version-table.js';
import { publishEventWith, type OutboxWriterOptions } from '../outbox/writer.js';
import { nextVersionVia, notInOrmTransaction } from './shared.js';

/** A Kysely instance of any schema; only raw queries are sent through it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyKysely = Kysely<any>;

/**
 * The {@link OutboxExecutor} over a Kysely handle. A `Transaction` is in a transaction (a
 * controlled one until it is committed or rolled back). For any other handle the server is
 * asked, so pass such a handle only when it is pinned to one connection (the `db` of
 * `db.connection().execute(...)`), which {@link publishEvent} ensures.
 */
export function kyselyExecutor(db: AnyKysely): OutboxExecutor {
  const executor: OutboxExecutor = {
    async execute(sql, params = []) {
      const result = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(sql, [...params]));
      return {
        affectedRows: Number(result.numAffectedRows ?? 0n),
        rows: result.rows,
        ...(result.insertId === undefined ? {} : { insertId: result.insertId }),
      };
    },
    async inTransaction() {
      if (!db.isTransaction) {
        if (await serverInTransaction(executor)) return true;
        throw notInOrmTransaction('kysely', 'the `trx` of db.transaction().execute() (the root db is a pool)');
      }
      const controlled = db as Partial<{ isCommitted: boolean; isRolledBack: boolean }>;
      if (controlled.isCommitted === true || controlled.isRolledBack === true) {
        throw notInOrmTransaction('kysely', 'a transaction that is still open (this one has been committed or rolled back)');
      }
      return true;
    },
  };
  return executor;
}

/**
 * Publishes `event` in the Kysely transaction `trx` (see the outbox writer's `publishEvent` for
 * validation, statements and errors). A handle that is not a Kysely `Transaction` is accepted
 * only when the server says its connection is in a transaction (e.g. `db.connection()` after a
 * raw `START TRANSACTION`): the check and the writes then run on one connection, so the root
 * `db`, a pool, is always refused with `OUTBOX_NOT_IN_TRANSACTION` before anything is written.
 */
export function publishEvent(trx: AnyKysely, event: NewOutboxEvent, options?: OutboxWriterOptions): Promise<OutboxEvent> {
  if (trx.isTransaction) return publishEventWith(kyselyExecutor(trx), event, options);
  return trx.connection().execute((conn) => publishEventWith(kyselyExecutor(conn), event, options));
}

/**
 * Takes the next version of an aggregate from the `outbox_version` table (created by
 * `outbox-cache migrate`) in the Kysely transaction `trx`: strictly increasing per aggregate in commit order, also
 * across delete and re-create (see the outbox's `nextVersion`). Refused with
 * `OUTBOX_NOT_IN_TRANSACTION` where {@link publishEvent} would be.
 */
export function nextVersion(trx: AnyKysely, aggregateType: string, aggregateId: string, options?: NextVersionOptions): Promise<bigint> {
  if (trx.isTransaction) return nextVersionVia(kyselyExecutor(trx), aggregateType, aggregateId, options);
  return trx.connection().execute((conn) => nextVersionVia(kyselyExecutor(conn), aggregateType, aggregateId, options));
}
