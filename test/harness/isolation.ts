import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, createTestRedis, type TestDatabase } from '../helpers.js';

/**
 * Registers the isolation test for one test file: isolation-a and isolation-b write the same
 * table and key names with different values; each must read back only its own, however the
 * runner schedules the two files.
 */
export function isolationTest(mine: string): void {
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
      await db.pool.query('INSERT INTO marker (owner) VALUES (?)', [mine]);
      await redis.rpush(`${prefix}marker`, mine);
    }
    const [rows] = await db.pool.query('SELECT DISTINCT owner FROM marker');
    expect(rows).toEqual([{ owner: mine }]);
    expect(new Set(await redis.lrange(`${prefix}marker`, 0, -1))).toEqual(new Set([mine]));
    expect(await redis.llen(`${prefix}marker`)).toBe(20);
  });
}
