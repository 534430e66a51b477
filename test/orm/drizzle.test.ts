/** The Drizzle adapter (drizzle-orm/mysql2) against the real MariaDB, through the shared adapter contract. */
import { eq, sql } from 'drizzle-orm';
import { bigint, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { drizzle } from 'drizzle-orm/mysql2';
import { createConnection, createPool, type Connection, type Pool } from 'mysql2/promise';
import { expect, it } from 'vitest';
import { publishEvent } from '../../src/orm/drizzle.js';
import { userEvent } from '../outbox/fixtures.js';
import { describeOrmAdapter } from './suite.js';

const users = mysqlTable('users', {
  id: int('id').primaryKey(),
  name: varchar('name', { length: 100 }).notNull(),
  version: bigint('version', { mode: 'bigint' }).notNull(),
});

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
    publishOutsideTransactions: (event) => [
      // The database over a pool, and over one connection in autocommit mode.
      () => publishEvent(db, event),
      () => publishEvent(drizzle({ client: single }), event),
      // A transaction kept past its callback: committed, its connection back in the pool.
      async () => publishEvent(await db.transaction(async (tx) => tx), event),
    ],
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
