/**
 * Knex adapter (`outbox-cache/orm/knex`): publishes inside a `knex.transaction(...)`, over Knex's
 * mysql2 or mysql client. Loads nothing of Knex itself: the transaction is duck-typed.
 *
 * ```ts
 * await knex.transaction(async (trx) => {
 *   await trx('users').update({ name }).where({ id });
 *   await publishEvent(trx, userChanged(user));
 * });
 * ```
 */
import type { Knex } from 'knex';
import type { OutboxEvent } from '../outbox/event.js';
import type { OutboxExecutor } from '../outbox/executor.js';
import type { NewOutboxEvent } from '../outbox/validate.js';
import type { NextVersionOptions } from '../outbox/version-table.js';
import { publishEventWith, type OutboxWriterOptions } from '../outbox/writer.js';
import { driverResult, nextVersionVia, notInOrmTransaction } from './shared.js';

/**
 * The {@link OutboxExecutor} over a Knex transaction. In a transaction while Knex says so
 * (`trx.isTransaction`, not yet `isCompleted()`); a `knex` instance is a pool and is refused:
 * each of its queries may run on another connection.
 */
export function knexExecutor(trx: Knex | Knex.Transaction): OutboxExecutor {
  return {
    async execute(sql, params = []) {
      // mysql2 and mysql hand back [rows or OK packet, fields] for raw statements.
      const raw: unknown = await trx.raw(sql, params as Knex.RawBinding[]);
      return driverResult(Array.isArray(raw) ? raw[0] : raw);
    },
    inTransaction() {
      const t = trx as Partial<Knex.Transaction>;
      if (t.isTransaction !== true || t.isCompleted?.() === true) {
        throw notInOrmTransaction('knex', 'the `trx` that knex.transaction() hands your callback (a knex instance is a pool)');
      }
      return true;
    },
  };
}

/**
 * Publishes `event` in the Knex transaction `trx` (see the outbox writer's `publishEvent` for
 * validation, statements and errors). Refused with `OUTBOX_NOT_IN_TRANSACTION`, before anything
 * is written, outside a transaction or after it completed.
 */
export function publishEvent(trx: Knex.Transaction, event: NewOutboxEvent, options?: OutboxWriterOptions): Promise<OutboxEvent> {
  return publishEventWith(knexExecutor(trx), event, options);
}

/**
 * Takes the next version of an aggregate from the `outbox_version` table (created by
 * `outbox-cache migrate`) in the Knex transaction `trx`: strictly increasing per aggregate in commit order, also
 * across delete and re-create (see the outbox's `nextVersion`). Refused with
 * `OUTBOX_NOT_IN_TRANSACTION` where {@link publishEvent} would be.
 */
export function nextVersion(trx: Knex.Transaction, aggregateType: string, aggregateId: string, options?: NextVersionOptions): Promise<bigint> {
  return nextVersionVia(knexExecutor(trx), aggregateType, aggregateId, options);
}
