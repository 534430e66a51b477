/**
 * Prisma adapter (`outbox-cache/orm/prisma`): publishes inside an interactive transaction,
 * `prisma.$transaction(async (tx) => ...)`, of a Prisma Client on MySQL or MariaDB (Prisma 7
 * with the `@prisma/adapter-mariadb` driver adapter, no engine binary; earlier clients work the
 * same way through raw queries). Loads nothing of Prisma itself: the client is duck-typed.
 *
 * ```ts
 * await prisma.$transaction(async (tx) => {
 *   await tx.user.update({ where: { id }, data: { name } });
 *   await publishEvent(tx, userChanged(user));
 * });
 * ```
 */
import type { OutboxEvent } from '../outbox/event.js';
import type { OutboxExecutor } from '../outbox/executor.js';
import type { NewOutboxEvent } from '../outbox/validate.js';
import type { NextVersionOptions } from '../outbox/version-table.js';
import { publishEventWith, type OutboxWriterOptions } from '../outbox/writer.js';
import { nextVersionVia, notInOrmTransaction } from './shared.js';

/** What the adapter uses of a Prisma Client or of the `tx` of an interactive transaction. */
export interface PrismaRawClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  /** Before Prisma 7: present on the client itself, absent on the `tx` of an interactive transaction. */
  $transaction?: unknown;
}

/** Prisma 7 marks the `tx` of an interactive transaction (which may nest) with its scope under this key. */
const TRANSACTION_SCOPE = Symbol.for('prisma.client.transaction.scope_context');

const RETURNS_ROWS = /^\s*(SELECT|SHOW)\b/i;

/**
 * The {@link OutboxExecutor} over a Prisma interactive transaction. Prisma 7 hands the callback a
 * client marked with its transaction scope (earlier versions: one without `$transaction`); the
 * client itself runs each query on any pooled connection and is refused. A `tx` used after its
 * transaction ended is rejected by Prisma (P2028) before any statement reaches the server, and
 * reported as the same refusal.
 */
export function prismaExecutor(tx: PrismaRawClient): OutboxExecutor {
  return {
    async execute(sql, params = []) {
      try {
        if (RETURNS_ROWS.test(sql)) {
          const rows = await tx.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...params);
          return { affectedRows: 0, rows };
        }
        return { affectedRows: await tx.$executeRawUnsafe(sql, ...params) };
      } catch (err) {
        // P2028: the transaction has ended (committed, or rolled back, e.g. timed out): nothing of this publish commits.
        if ((err as { code?: unknown }).code === 'P2028') throw notInOrmTransaction('prisma', `a transaction that is still open (${String((err as Error).message).trim().split('\n').pop()})`);
        throw err;
      }
    },
    inTransaction() {
      const scoped = (tx as unknown as Record<symbol, unknown> | undefined)?.[TRANSACTION_SCOPE] !== undefined;
      if (typeof tx?.$executeRawUnsafe !== 'function' || (!scoped && typeof tx.$transaction === 'function')) {
        throw notInOrmTransaction('prisma', 'the `tx` that prisma.$transaction(async (tx) => ...) hands your callback (the client itself is a pool)');
      }
      return true;
    },
  };
}

/**
 * Publishes `event` in the Prisma interactive transaction `tx` (see the outbox writer's
 * `publishEvent` for validation, statements and errors). Refused with
 * `OUTBOX_NOT_IN_TRANSACTION`, before anything is written, when given the client itself.
 */
export function publishEvent(tx: PrismaRawClient, event: NewOutboxEvent, options?: OutboxWriterOptions): Promise<OutboxEvent> {
  return publishEventWith(prismaExecutor(tx), event, options);
}

/**
 * Takes the next version of an aggregate from the `outbox_version` table (created by
 * `outbox-cache migrate`) in the Prisma interactive transaction `tx`: strictly increasing per aggregate in commit order, also
 * across delete and re-create (see the outbox's `nextVersion`). Refused with
 * `OUTBOX_NOT_IN_TRANSACTION` where {@link publishEvent} would be.
 */
export function nextVersion(tx: PrismaRawClient, aggregateType: string, aggregateId: string, options?: NextVersionOptions): Promise<bigint> {
  return nextVersionVia(prismaExecutor(tx), aggregateType, aggregateId, options);
}
