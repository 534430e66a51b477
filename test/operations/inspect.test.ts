/** `outbox-cache inspect` on the real Redis and MariaDB: decoded states, TTLs, and the verdict. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { inspectCommand } from '../../src/cli/commands/inspect.js';
import { createTestDatabase, createTestRedis, type TestDatabase } from '../helpers.js';
import { runCli } from './run-cli.js';

const { redis, prefix } = createTestRedis();
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('insp');
  await db.pool.query('CREATE TABLE products (id BIGINT PRIMARY KEY, name TEXT, version BIGINT NOT NULL)');
  await db.pool.query("INSERT INTO products VALUES (1, 'a', 5), (2, 'b', 9), (3, 'c', 3)");
});
afterAll(async () => {
  await db?.drop();
  redis.disconnect();
});

it('shows each key decoded, the database version and a verdict; exit 1 when one is stale', async () => {
  const token = 'ab'.repeat(16);
  await redis.set(`${prefix}product:1`, 'E5:{"name":"a"}', 'PX', 60_000);
  await redis.set(`${prefix}product:2`, 'E7:{"name":"old"}');
  await redis.set(`${prefix}product:3`, `L3:${token}:1700000000000:2:{"name":"c0"}`, 'PX', 9000);
  await redis.set(`${prefix}product:4`, 'T11:');
  const env = { REDIS_URL: inject('redisUrl'), CACHE_KEY_PREFIX: prefix, MYSQL_URL: db.url };
  const keys = [1, 2, 3, 4, 5].map((n) => `${prefix}product:${n}`);
  const run = await runCli(inspectCommand, [...keys, '--sql', 'SELECT version FROM products WHERE id = :id'], env);
  expect(run.code, run.stderr).toBe(1);
  const lines = run.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/product:1 {2}entry {2}version=5 {2}ttl=\d+ms {2}value=12B {2}db=5 {2}consistent$/);
  expect(lines[1]).toMatch(/product:2 {2}entry {2}version=7 {2}value=14B {2}db=9 {2}stale$/);
  expect(lines[2]).toMatch(new RegExp(`product:3  lease  floor=3  ttl=\\d+ms  lease=${token}  stale=v2 13B at 2023-11-14T22:13:20.000Z  db=3  consistent$`));
  expect(lines[3]).toMatch(/product:4 {2}tombstone {2}version=11 {2}db=no row {2}consistent$/);
  expect(lines[4]).toMatch(/product:5 {2}missing {2}db=no row {2}consistent$/);
  expect(run.stdout).not.toContain('"name"');

  const shown = await runCli(inspectCommand, [keys[0]!, '--show-value', '--json'], { REDIS_URL: inject('redisUrl') });
  expect(shown.code).toBe(0);
  expect(JSON.parse(shown.stdout)).toMatchObject({ kind: 'entry', version: '5', valueBytes: 12, verdict: 'unknown', value: '{"name":"a"}' });
});

it('reports every usage problem at once with exit 2', async () => {
  const run = await runCli(inspectCommand, ['--sql', 'SELECT 1'], { REDIS_URL: 'http://x' });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('arguments: expected one or more keys');
  expect(run.stderr).toContain('REDIS_URL');
  const half = await runCli(inspectCommand, ['--sql', 'SELECT 1'], { REDIS_URL: inject('redisUrl') });
  expect(half.code).toBe(2);
  expect(half.stderr).toContain('arguments: expected one or more keys');
  expect(half.stderr).toContain('--sql / --mysql-url: give both');
});
