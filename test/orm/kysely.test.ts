/** The Kysely adapter (MysqlDialect over mysql2) against the real MariaDB, through the shared adapter contract. */
import { CompiledQuery, Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import { expect, it } from 'vitest';
import { nextVersion, publishEvent } from '../../src/orm/kysely.js';
import { userEvent } from '../outbox/fixtures.js';
import { describeOrmAdapter, type OutsideAction } from './suite.js';

interface Db {
  users: { id: number; name: string; version: string };
}

let db: Kysely<Db>;

const attempt = (handle: Kysely<Db>, action: OutsideAction): Promise<unknown> =>
  action.kind === 'publish' ? publishEvent(handle, action.event) : nextVersion(handle, 'user', '424242');

const ctx = describeOrmAdapter('kysely', async (testDb) => {
  db = new Kysely<Db>({ dialect: new MysqlDialect({ pool: createPool({ uri: testDb.url, connectionLimit: 4 }) }) });
  return {
    updateAndPublish: (userId, name, event) =>
      db.transaction().execute(async (trx) => {
        await trx.updateTable('users').set({ name }).where('id', '=', userId).execute();
        return publishEvent(trx, event);
      }),
    async publishThenRollBack(userId, event) {
      let id = '';
      const rolledBack = new Error('domain rule failed');
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.updateTable('users').set({ name: 'gone' }).where('id', '=', userId).execute();
          id = (await publishEvent(trx, event)).id;
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      return id;
    },
    outsideTransactions: (action) => [
      // The root instance: a pool.
      () => attempt(db, action),
      // One pinned connection in autocommit mode.
      () => db.connection().execute((conn) => attempt(conn, action)),
      // A controlled transaction after its commit.
      async () => {
        const trx = await db.startTransaction().execute();
        await trx.commit().execute();
        return attempt(trx, action);
      },
    ],
    transact: (work) =>
      db.transaction().execute((trx) =>
        work({
          exec: async (text, params) => void (await trx.executeQuery(CompiledQuery.raw(text, [...params]))),
          publish: (event) => publishEvent(trx, event),
          nextVersion: (type, id) => nextVersion(trx, type, id),
        }),
      ),
    close: () => db.destroy(),
  };
});

it('accepts a pinned connection once the server says a transaction is open on it (raw START TRANSACTION), and a controlled transaction', async () => {
  const userId = await ctx.newUser();
  const from = await ctx.here();
  const pinned = await db.connection().execute(async (conn) => {
    await sql`START TRANSACTION`.execute(conn);
    const event = await publishEvent(conn, userEvent(userId, 1));
    await sql`COMMIT`.execute(conn);
    return event;
  });
  const trx = await db.startTransaction().execute();
  const controlled = await publishEvent(trx, userEvent(userId, 2));
  await trx.commit().execute();
  const inserts = (await ctx.outboxEvents(from)).filter((e) => e.op === 'INSERT');
  expect(inserts.map((e) => e.columns[0]?.text)).toEqual([pinned.id, controlled.id]);
});
