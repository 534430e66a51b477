/**
 * Drizzle adapter (`outbox-cache/orm/drizzle`): publishes inside `db.transaction(...)` of a
 * Drizzle database over mysql2 (`drizzle-orm/mysql2`).
 *
 * ```ts
 * await db.transaction(async (tx) => {
 *   await tx.update(users).set({ name }).where(eq(users.id, id));
 *   await publishEvent(tx, userChanged(user));
 * });
 * ```
 */
import { is, sql, type SQL } from 'drizzle-orm';
import { MySqlTransaction, type MySqlDatabase } from 'drizzle-orm/mysql-core';
import type { OutboxEvent } from '../outbox/event.js';
import { serverInTransaction, type OutboxExecutor } from '../outbox/executor.js';
import type { SqlParam } from '../outbox/sql.js';
import type { NewOutboxEvent } from '../outbox/validate.js';
import type { NextVersionOptions } from '../outbox/version-table.js';
import { publishEventWith, type OutboxWriterOptions } from '../outbox/writer.js';
import { driverResult, nextVersionVia, notInOrmTransaction } from './shared.js';

/** A Drizzle MySQL database or transaction of any schema and driver. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMySqlDatabase = MySqlDatabase<any, any, any, any>;

const ADVICE = 'the `tx` that db.transaction() hands your callback (a database over a pool has no transaction)';

/**
 * The {@link OutboxExecutor} over a Drizzle transaction (or a database over one mysql2
 * connection). A Drizzle transaction object does not record that it has ended, and one kept
 * past its callback would run on a connection back in the pool: so the server is asked every
 * time (with mysql2, one `DO 0` round trip reading the OK packet's status flags). A database
 * over a pool is refused outright.
 */
export function drizzleExecutor(db: AnyMySqlDatabase): OutboxExecutor {
  const executor: OutboxExecutor = {
    async execute(text, params = []) {
      const raw: unknown = await db.execute(bound(text, params));
      // mysql2 hands back [rows or OK packet, fields].
      return driverResult(Array.isArray(raw) ? raw[0] : raw);
    },
    async inTransaction() {
      const client = (db as { $client?: { getConnection?: unknown } }).$client;
      if (!is(db, MySqlTransaction) && typeof client?.getConnection === 'function') throw notInOrmTransaction('drizzle', ADVICE);
      if (await serverInTransaction(executor)) return true;
      throw notInOrmTransaction('drizzle', ADVICE);
    },
  };
  return executor;
}

/**
 * Publishes `event` in the Drizzle transaction `tx` (see the outbox writer's `publishEvent` for
 * validation, statements and errors). Refused with `OUTBOX_NOT_IN_TRANSACTION`, before anything
 * is written, outside a transaction.
 */
export function publishEvent(tx: AnyMySqlDatabase, event: NewOutboxEvent, options?: OutboxWriterOptions): Promise<OutboxEvent> {
  return publishEventWith(drizzleExecutor(tx), event, options);
}

/** The writer's `?`-placeholder statement as a Drizzle SQL object with bound parameters. */
function bound(text: string, params: readonly SqlParam[]): SQL {
  const parts = text.split('?');
  if (parts.length !== params.length + 1) throw new Error(`statement has ${parts.length - 1} placeholders for ${params.length} parameters`);
  return sql.join(parts.flatMap((part, i) => (i < params.length ? [sql.raw(part), sql.param(params[i])] : [sql.raw(part)])));
}

/**
 * Takes the next version of an aggregate from the `outbox_version` table (created by
 * `outbox-cache migrate`) in the Drizzle transaction `tx`: strictly increasing per aggregate in commit order, also
 * across delete and re-create (see the outbox's `nextVersion`). Refused with
 * `OUTBOX_NOT_IN_TRANSACTION` where {@link publishEvent} would be.
 */
export function nextVersion(tx: AnyMySqlDatabase, aggregateType: string, aggregateId: string, options?: NextVersionOptions): Promise<bigint> {
  return nextVersionVia(drizzleExecutor(tx), aggregateType, aggregateId, options);
}
