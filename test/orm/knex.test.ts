/** The Knex adapter (mysql2 client) against the real MariaDB, through the shared adapter contract. */
import knexFactory, { type Knex } from 'knex';
import { expect, it } from 'vitest';
import { nextVersion, publishEvent } from '../../src/orm/knex.js';
import { userEvent } from '../outbox/fixtures.js';
import { describeOrmAdapter, type OutsideAction } from './suite.js';

const attempt = (trx: Knex.Transaction, action: OutsideAction): Promise<unknown> =>
  action.kind === 'publish' ? publishEvent(trx, action.event) : nextVersion(trx, 'user', '424242');

let knex: Knex;

const ctx = describeOrmAdapter('knex', async (db) => {
  knex = knexFactory({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 4 } });
  return {
    updateAndPublish: (userId, name, event) =>
      knex.transaction(async (trx) => {
        await trx('users').update({ name }).where({ id: userId });
        return publishEvent(trx, event);
      }),
    async publishThenRollBack(userId, event) {
      let id = '';
      const rolledBack = new Error('domain rule failed');
      await expect(
        knex.transaction(async (trx) => {
          await trx('users').update({ name: 'gone' }).where({ id: userId });
          id = (await publishEvent(trx, event)).id;
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      return id;
    },
    outsideTransactions: (action) => [
      // The knex instance is a pool, whatever the types say.
      () => attempt(knex as Knex.Transaction, action),
      // A transaction that has committed.
      async () => {
        const done = await knex.transaction(async (trx) => trx);
        return attempt(done, action);
      },
      // A transaction started by hand and rolled back.
      async () => {
        const trx = await knex.transaction();
        await trx.rollback();
        return attempt(trx, action);
      },
    ],
    transact: (work) =>
      knex.transaction((trx) =>
        work({
          exec: async (sql, params) => void (await trx.raw(sql, [...params])),
          publish: (event) => publishEvent(trx, event),
          nextVersion: (type, id) => nextVersion(trx, type, id),
        }),
      ),
    close: () => knex.destroy(),
  };
});

it('publishes in a savepoint (nested transaction) and in a transaction taken with knex.transaction() and committed by hand', async () => {
  const userId = await ctx.newUser();
  const from = await ctx.here();
  const trx = await knex.transaction();
  const outer = await publishEvent(trx, userEvent(userId, 1));
  const inner = await trx.transaction(async (nested) => publishEvent(nested, userEvent(userId, 2)));
  await trx.commit();
  const events = await ctx.outboxEvents(from);
  const inserts = events.filter((e) => e.op === 'INSERT');
  expect(inserts.map((e) => e.columns[0]?.text)).toEqual([outer.id, inner.id]);
  expect(new Set(events.map((e) => e.gtid)).size).toBe(1);
});
