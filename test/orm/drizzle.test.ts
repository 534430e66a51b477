/** The Drizzle adapter (drizzle-orm/mysql2) against the real MariaDB, through the shared adapter contract. */
import { eq, sql, type SQL } from 'drizzle-orm';
import { bigint, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/mysql2';
import { createConnection, createPool, type Connection, type Pool } from 'mysql2/promise';
import { expect, it } from 'vitest';
import { nextVersion, publishEvent } from '../../src/orm/drizzle.js';
import { userEvent } from '../outbox/fixtures.js';
import { describeOrmAdapter, type OutsideAction } from './suite.js';

const attempt = (handle: Parameters<typeof publishEvent>[0], action: OutsideAction): Promise<unknown> =>
  action.kind === 'publish' ? publishEvent(handle, action.event) : nextVersion(handle, 'user', '424242');

const users = mysqlTable('users', {
  id: int('id').primaryKey(),
  name: varchar('name', { length: 100 }).notNull(),
  version: bigint('version', { mode: 'bigint' }).notNull(),
});

/** A `?`-placeholder statement as Drizzle SQL. */
function withParams(text: string, params: readonly (string | number)[]): SQL {
  const [head = '', ...rest] = text.split('?');
  return sql.join([sql.raw(head), ...rest.flatMap((part, i) => [sql.param(params[i]), sql.raw(part)])]);
}

let pool: Pool;
let single: Connection;

const ctx = describeOrmAdapter('drizzle', async (testDb) => {
  pool = createPool({ uri: testDb.url, connectionLimit: 4 });
  single = await createConnection(testDb.url);
  const db = drizzle({ client: pool });
  return {
    updateAndPublish: (userId, name, event) =>
      db.transaction(async (tx) => {
        await tx.update(users).set({ name }).where(eq(users.id, userId));
        return publishEvent(tx, event);
      }),
    async publishThenRollBack(userId, event) {
      let id = '';
      const rolledBack = new Error('domain rule failed');
      await expect(
        db.transaction(async (tx) => {
          await tx.update(users).set({ name: 'gone' }).where(eq(users.id, userId));
          id = (await publishEvent(tx, event)).id;
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      return id;
    },
    outsideTransactions: (action) => [
      // The database over a pool, and over one connection in autocommit mode.
      () => attempt(db, action),
      () => attempt(drizzle({ client: single }), action),
      // A transaction kept past its callback: committed, its connection back in the pool.
      async () => attempt(await db.transaction(async (tx) => tx), action),
    ],
    transact: (work) =>
      db.transaction((tx) =>
        work({
          exec: async (text, params) => void (await tx.execute(withParams(text, params))),
          publish: (event) => publishEvent(tx, event),
          nextVersion: (type, id) => nextVersion(tx, type, id),
        }),
      ),
    close: async () => {
      await single.end();
      await pool.end();
    },
  };
});

it('publishes in a nested transaction (savepoint) and over one connection once the server says a transaction is open', async () => {
  const userId = await ctx.newUser();
  const from = await ctx.here();
  const db = drizzle({ client: pool });
  const nested = await db.transaction(async (tx) => tx.transaction(async (inner) => publishEvent(inner, userEvent(userId, 1))));
  const overOne = drizzle({ client: single });
  await overOne.execute(sql`START TRANSACTION`);
  const raw = await publishEvent(overOne, userEvent(userId, 2));
  await overOne.execute(sql`COMMIT`);
  const inserts = (await ctx.outboxEvents(from)).filter((e) => e.op === 'INSERT');
  expect(inserts.map((e) => e.columns[0]?.text)).toEqual([nested.id, raw.id]);
});
