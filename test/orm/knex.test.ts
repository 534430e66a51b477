/** The Knex adapter (mysql2 client) against the real MariaDB, through the shared adapter contract. */
import knexFactory, { type Knex } from 'knex';
import { expect, it } from 'vitest';
import { publishEvent } from '../../src/orm/knex.js';
import { userEvent } from '../outbox/fixtures.js';
import { describeOrmAdapter } from './suite.js';

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
    publishOutsideTransactions: (event) => [
      // The knex instance is a pool, whatever the types say.
      () => publishEvent(knex as Knex.Transaction, event),
      // A transaction that has committed.
      async () => {
        const done = await knex.transaction(async (trx) => trx);
        return publishEvent(done, event);
      },
      // A transaction started by hand and rolled back.
      async () => {
        const trx = await knex.transaction();
        await trx.rollback();
        return publishEvent(trx, event);
      },
    ],
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
