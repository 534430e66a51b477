/**
 * Sequelize adapter (`outbox-cache/orm/sequelize`): publishes inside `sequelize.transaction(...)`
 * (managed or unmanaged), over Sequelize's mysql (mysql2) or mariadb dialect. Loads nothing of
 * Sequelize itself: the transaction is duck-typed.
 *
 * ```ts
 * await sequelize.transaction(async (t) => {
 *   await User.update({ name }, { where: { id }, transaction: t });
 *   await publishEvent(t, userChanged(user));
 * });
 * ```
 */
import type { Sequelize, Transaction } from 'sequelize';
import type { OutboxEvent } from '../outbox/event.js';
import type { OutboxExecutor } from '../outbox/executor.js';
import type { NewOutboxEvent } from '../outbox/validate.js';
import type { NextVersionOptions } from '../outbox/version-table.js';
import { publishEventWith, type OutboxWriterOptions } from '../outbox/writer.js';
import { driverResult, nextVersionVia, notInOrmTransaction } from './shared.js';

const INSERT = /^insert into/i;

/** Fields of a Sequelize Transaction that its type declarations leave out. */
interface TransactionState {
  readonly sequelize?: Sequelize;
  /** `'commit'` or `'rollback'` once the transaction has ended. */
  readonly finished?: string;
}

/**
 * The {@link OutboxExecutor} over a Sequelize transaction: every statement is sent with
 * `{ transaction: t }` and bound parameters; in a transaction until Sequelize marks it finished.
 */
export function sequelizeExecutor(t: Transaction): OutboxExecutor {
  const state = (t ?? {}) as TransactionState;
  const sequelize = state.sequelize;
  return {
    async execute(sql, params = []) {
      if (!sequelize) throw notInOrmTransaction('sequelize', 'the transaction');
      let n = 0;
      // Sequelize binds `$1`-style; the writer's SQL has `?` only as placeholders.
      const [result, meta] = await sequelize.query(sql.replace(/\?/g, () => `$${++n}`), {
        bind: [...params],
        transaction: t,
        type: 'RAW',
        raw: true,
      });
      // Sequelize recognises an INSERT by its text and answers [insertId, affectedRows] instead of the OK packet.
      if (INSERT.test(sql) && typeof meta === 'number') {
        return { affectedRows: meta, ...(typeof result === 'number' || typeof result === 'bigint' ? { insertId: result } : {}) };
      }
      return driverResult(result);
    },
    inTransaction() {
      if (!sequelize || typeof sequelize.query !== 'function') {
        throw notInOrmTransaction('sequelize', 'the transaction `t` of sequelize.transaction(), not the Sequelize instance or a model');
      }
      if (state.finished !== undefined) {
        throw notInOrmTransaction('sequelize', `a transaction that is still open (this one has finished: ${state.finished})`);
      }
      return true;
    },
  };
}

/**
 * Publishes `event` in the Sequelize transaction `t` (see the outbox writer's `publishEvent` for
 * validation, statements and errors). Refused with `OUTBOX_NOT_IN_TRANSACTION`, before anything
 * is written, without a transaction or after it committed or rolled back.
 */
export function publishEvent(t: Transaction, event: NewOutboxEvent, options?: OutboxWriterOptions): Promise<OutboxEvent> {
  return publishEventWith(sequelizeExecutor(t), event, options);
}

/**
 * Takes the next version of an aggregate from the `outbox_version` table (created by
 * `outbox-cache migrate`) in the Sequelize transaction `t`: strictly increasing per aggregate in commit order, also
 * across delete and re-create (see the outbox's `nextVersion`). Refused with
 * `OUTBOX_NOT_IN_TRANSACTION` where {@link publishEvent} would be.
 */
export function nextVersion(t: Transaction, aggregateType: string, aggregateId: string, options?: NextVersionOptions): Promise<bigint> {
  return nextVersionVia(sequelizeExecutor(t), aggregateType, aggregateId, options);
}
