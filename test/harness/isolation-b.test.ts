import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, createTestRedis, type TestDatabase } from '../helpers.js';

// isolation-a and isolation-b write the same table and key names with different values; each must
// read back only its own, however the runner schedules the two files.
const MINE = 'b';
let db: TestDatabase;
const { redis, prefix } = createTestRedis();

beforeAll(async () => {
  db = await createTestDatabase('iso');
  await db.pool.query('CREATE TABLE marker (owner VARCHAR(8) NOT NULL)');
});
afterAll(async () => {
  await db.drop();
  redis.disconnect();
});

it('sees only its own database rows and Redis keys', async () => {
  for (let i = 0; i < 20; i++) {
    await db.pool.query('INSERT INTO marker (owner) VALUES (?)', [MINE]);
    await redis.rpush(`${prefix}marker`, MINE);
  }
  const [rows] = await db.pool.query('SELECT DISTINCT owner FROM marker');
  expect(rows).toEqual([{ owner: MINE }]);
  expect(new Set(await redis.lrange(`${prefix}marker`, 0, -1))).toEqual(new Set([MINE]));
  expect(await redis.llen(`${prefix}marker`)).toBe(20);
});
