/**
 * TypeORM adapter (`outbox-cache/orm/typeorm`): publishes inside `dataSource.transaction(...)`
 * through its EntityManager, or through a QueryRunner whose transaction you manage, over
 * TypeORM's mysql/mariadb driver. Loads nothing of TypeORM itself: its objects are duck-typed.
 *
 * ```ts
 * await dataSource.transaction(async (manager) => {
 *   await manager.update(User, { id }, { name });
 *   await publishEvent(manager, userChanged(user));
 * });
 * ```
 */
import type { EntityManager, QueryRunner } from 'typeorm';
import type { OutboxEvent } from '../outbox/event.js';
import { serverInTransaction, type OutboxExecutor } from '../outbox/executor.js';
import type { NewOutboxEvent } from '../outbox/validate.js';
import type { NextVersionOptions } from '../outbox/version-table.js';
import { publishEventWith, type OutboxWriterOptions } from '../outbox/writer.js';
import { driverResult, nextVersionVia, notInOrmTransaction } from './shared.js';

const ADVICE = 'the `manager` that dataSource.transaction() hands your callback, or a QueryRunner after startTransaction() (dataSource.manager is a pool)';

/**
 * The {@link OutboxExecutor} over a TypeORM EntityManager or QueryRunner. The runner's
 * `isTransactionActive` says when TypeORM opened a transaction; a runner TypeORM thinks idle is
 * asked the server (it holds one connection, so a transaction opened with raw SQL counts); an
 * EntityManager without a runner (`dataSource.manager`) is a pool and is refused.
 */
export function typeormExecutor(handle: EntityManager | QueryRunner): OutboxExecutor {
  const runner = isQueryRunner(handle) ? handle : handle.queryRunner;
  const executor: OutboxExecutor = {
    async execute(sql, params = []) {
      if (!runner) throw notInOrmTransaction('typeorm', ADVICE);
      return driverResult((await runner.query(sql, [...params], true)).raw);
    },
    async inTransaction() {
      if (!runner || runner.isReleased) throw notInOrmTransaction('typeorm', ADVICE);
      if (runner.isTransactionActive || (await serverInTransaction(executor))) return true;
      throw notInOrmTransaction('typeorm', ADVICE);
    },
  };
  return executor;
}

/**
 * Publishes `event` in the transaction held by `manager` (the one `dataSource.transaction()`
 * hands its callback) or by a QueryRunner (see the outbox writer's `publishEvent` for
 * validation, statements and errors). Refused with `OUTBOX_NOT_IN_TRANSACTION`, before anything
 * is written, outside a transaction.
 */
export function publishEvent(manager: EntityManager | QueryRunner, event: NewOutboxEvent, options?: OutboxWriterOptions): Promise<OutboxEvent> {
  return publishEventWith(typeormExecutor(manager), event, options);
}

function isQueryRunner(handle: EntityManager | QueryRunner): handle is QueryRunner {
  return typeof (handle as Partial<QueryRunner>).startTransaction === 'function';
}

/**
 * Takes the next version of an aggregate from the `outbox_version` table (created by
 * `outbox-cache migrate`) in the transaction held by `manager` (or a QueryRunner): strictly increasing per aggregate in commit order, also
 * across delete and re-create (see the outbox's `nextVersion`). Refused with
 * `OUTBOX_NOT_IN_TRANSACTION` where {@link publishEvent} would be.
 */
export function nextVersion(manager: EntityManager | QueryRunner, aggregateType: string, aggregateId: string, options?: NextVersionOptions): Promise<bigint> {
  return nextVersionVia(typeormExecutor(manager), aggregateType, aggregateId, options);
}
