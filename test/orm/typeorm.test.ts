/** The TypeORM adapter (mysql driver over mysql2) against the real MariaDB, through the shared adapter contract. */
import { DataSource, EntitySchema, type EntityManager, type QueryRunner } from 'typeorm';
import { expect, it } from 'vitest';
import { nextVersion, publishEvent } from '../../src/orm/typeorm.js';
import { userEvent } from '../outbox/fixtures.js';
import { describeOrmAdapter, type OutsideAction } from './suite.js';

const attempt = (handle: EntityManager | QueryRunner, action: OutsideAction): Promise<unknown> =>
  action.kind === 'publish' ? publishEvent(handle, action.event) : nextVersion(handle, 'user', '424242');

interface User {
  id: number;
  name: string;
  version: string;
}

const Users = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  columns: { id: { type: Number, primary: true }, name: { type: String }, version: { type: 'bigint' } },
});

let dataSource: DataSource;

const ctx = describeOrmAdapter('typeorm', async (db) => {
  dataSource = new DataSource({ type: 'mysql', url: db.url, entities: [Users], poolSize: 4 });
  await dataSource.initialize();
  return {
    updateAndPublish: (userId, name, event) =>
      dataSource.transaction(async (manager) => {
        await manager.update(Users, { id: userId }, { name });
        return publishEvent(manager, event);
      }),
    async publishThenRollBack(userId, event) {
      let id = '';
      const rolledBack = new Error('domain rule failed');
      await expect(
        dataSource.transaction(async (manager) => {
          await manager.update(Users, { id: userId }, { name: 'gone' });
          id = (await publishEvent(manager, event)).id;
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      return id;
    },
    outsideTransactions: (action) => [
      // The data source's own manager: a pool.
      () => attempt(dataSource.manager, action),
      // A query runner with no transaction.
      async () => {
        const runner = dataSource.createQueryRunner();
        try {
          return await attempt(runner, action);
        } finally {
          await runner.release();
        }
      },
      // A query runner after its commit, and a released one.
      async () => {
        const runner = dataSource.createQueryRunner();
        await runner.startTransaction();
        await runner.commitTransaction();
        try {
          return await attempt(runner.manager, action);
        } finally {
          await runner.release();
        }
      },
      async () => {
        const runner = dataSource.createQueryRunner();
        await runner.startTransaction();
        // Released with the transaction still open, the pooled connection would stay in it.
        await runner.rollbackTransaction();
        await runner.release();
        return attempt(runner, action);
      },
    ],
    transact: (work) =>
      dataSource.transaction((manager) =>
        work({
          exec: async (sql, params) => void (await manager.query(sql, [...params])),
          publish: (event) => publishEvent(manager, event),
          nextVersion: (type, id) => nextVersion(manager, type, id),
        }),
      ),
    close: () => dataSource.destroy(),
  };
});

it('publishes through a QueryRunner whose transaction the caller manages, and one opened with raw SQL', async () => {
  const userId = await ctx.newUser();
  const from = await ctx.here();
  const runner = dataSource.createQueryRunner();
  let managed = '';
  let raw = '';
  try {
    await runner.startTransaction();
    managed = (await publishEvent(runner, userEvent(userId, 1))).id;
    await runner.commitTransaction();
    await runner.query('START TRANSACTION');
    raw = (await publishEvent(runner.manager, userEvent(userId, 2))).id;
    await runner.query('COMMIT');
  } finally {
    await runner.release();
  }
  const inserts = (await ctx.outboxEvents(from)).filter((e) => e.op === 'INSERT');
  expect(inserts.map((e) => e.columns[0]?.text)).toEqual([managed, raw]);
});
