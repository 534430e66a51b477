/**
 * `outbox-cache backfill` as a process: SIGINT stops it between batches with the cursor stored
 * (exit 0), and the same command resumes after the last finished batch and completes.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { backfillCommand } from '../../src/cli/commands/backfill.js';
import { loadCursor } from '../../src/operations/backfill-cursor.js';
import { createTestDatabase, createTestRedis, waitUntil, type TestDatabase } from '../helpers.js';
import { runCli } from './run-cli.js';

const { redis, prefix } = createTestRedis();
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('bfr');
  await db.pool.query('CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, version BIGINT NOT NULL)');
  const rows = Array.from({ length: 600 }, (_v, i) => [i + 1, `n${i + 1}`, 3]);
  await db.pool.query('INSERT INTO items VALUES ?', [rows]);
});
afterAll(async () => {
  await db?.drop();
  redis.disconnect();
});

it('stops on SIGINT between batches, then resumes after the last finished batch', async () => {
  const env = { REDIS_URL: inject('redisUrl'), MYSQL_URL: db.url, CACHE_KEY_PREFIX: prefix };
  const args = ['--namespace', 'item', '--table', 'items', '--batch-size', '20', '--rate', '200'];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'backfill', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  const cursorKey = `${prefix}__outbox-cache:backfill:item`;
  try {
    await waitUntil('a few batches stored', async () => {
      if (exitCode !== undefined) throw new Error(`backfill exited early (${exitCode}): ${output}`);
      return ((await loadCursor(redis, cursorKey))?.rows ?? 0) >= 60;
    }, 60_000);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited, output).toBe(0);
  expect(output).toContain('stopped between batches');
  const stored = await loadCursor(redis, cursorKey);
  expect(stored?.rows).toBeGreaterThanOrEqual(60);
  expect(stored?.rows).toBeLessThan(600);
  expect(stored?.after).toBe(stored?.rows);
  // Every row up to the cursor is filled, none after it.
  expect(await redis.exists(`${prefix}item:${stored?.rows}`)).toBe(1);
  expect(await redis.exists(`${prefix}item:${(stored?.rows ?? 0) + 1}`)).toBe(0);

  const resumed = await runCli(backfillCommand, args.filter((a, i) => a !== '--rate' && args[i - 1] !== '--rate'), env);
  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stdout).toContain(`resumed after ${stored?.rows} rows`);
  expect(resumed.stdout).toContain(`${600 - (stored?.rows ?? 0)} rows: ${600 - (stored?.rows ?? 0)} filled`);
  expect(await redis.get(`${prefix}item:600`)).toBe('E3:{"id":600,"name":"n600","version":3}');
  expect(await redis.exists(cursorKey)).toBe(0);
}, 180_000);
