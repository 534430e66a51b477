/**
 * `outbox-cache audit sample` against the real Redis and MariaDB: keys whose cached version is
 * older than the row's are reported (and repaired with --repair, through the guard), newer or
 * equal versions, tombstones and leases pass, a missing row is counted; the command's exit code.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auditSampleCommand } from '../../src/cli/commands/audit-sample.js';
import { runSampleFromConfig } from '../../src/audit/sample-run.js';
import { parseSampleConfig } from '../../src/audit/sample-settings.js';
import { escapeGlob } from '../../src/audit/sample.js';
import { createLogger } from '../../src/ops/logger.js';
import { createTestDatabase, createTestRedis, type TestDatabase } from '../helpers.js';

const { redis, prefix } = createTestRedis();
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('audit_sample');
  await db.pool.query('CREATE TABLE product (id VARCHAR(16) PRIMARY KEY, version BIGINT NOT NULL)');
  await db.pool.query("INSERT INTO product VALUES ('1', 3), ('2', 4), ('3', 9), ('5', 2), ('6', 7)");
});
afterAll(async () => {
  redis.disconnect();
  await db?.drop();
});

async function seed(): Promise<void> {
  await redis.mset(
    `${prefix}product:1`, 'E3:same', // consistent
    `${prefix}product:2`, 'E1:old', // stale: 1 < 4
    `${prefix}product:3`, 'T5:', // tombstone: never served
    `${prefix}product:4`, 'E1:gone', // no row
    `${prefix}product:5`, 'A3:', // newer than the row
    `${prefix}product:6`, 'A6:', // stale known-absent: 6 < 7
    `${prefix}other:1`, 'E1:not sampled',
  );
}

const env = (extra: Record<string, string> = {}) => ({
  REDIS_URL: inject('redisUrl'), MYSQL_URL: db.url, CACHE_KEY_PREFIX: prefix,
  AUDIT_SAMPLE_QUERIES: JSON.stringify({ product: 'SELECT version FROM product WHERE id = ?' }), AUDIT_SAMPLE_KEYS_PER_S: '1000', ...extra,
});

describe('audit sample', () => {
  it('reports the keys older than their rows, and repairs them through the guard with --repair', async () => {
    await seed();
    const logger = createLogger({ level: 'silent' });
    const found = await runSampleFromConfig(parseSampleConfig(env()), { signal: new AbortController().signal, logger });
    expect(found).toMatchObject({ scanned: 6, compared: 5, rowMissing: 1, repaired: 0 });
    expect(found.stale.map((s) => [s.key, s.found, s.cachedVersion, s.databaseVersion]).sort()).toEqual([
      [`${prefix}product:2`, 'entry', '1', '4'],
      [`${prefix}product:6`, 'absent', '6', '7'],
    ]);
    expect(await redis.get(`${prefix}product:2`)).toBe('E1:old');

    const repaired = await runSampleFromConfig(parseSampleConfig(env(), ['--repair']), { signal: new AbortController().signal, logger });
    expect(repaired.repaired).toBe(2);
    expect(await redis.mget(`${prefix}product:2`, `${prefix}product:6`, `${prefix}product:1`)).toEqual(['T4:', 'T7:', 'E3:same']);
  });

  it('exits 1 while stale keys are left, 0 once repaired', async () => {
    await seed();
    const run = async (argv: string[], extra: Record<string, string> = {}) => {
      const stdout = new PassThrough();
      let out = '';
      stdout.on('data', (d: Buffer) => (out += d.toString()));
      const code = await auditSampleCommand.run({ argv, env: { ...env(extra), LOG_LEVEL: 'silent' }, stdout, stderr: new PassThrough(), signal: new AbortController().signal });
      return { code, out };
    };
    const first = await run([]);
    expect(first.code).toBe(1);
    expect(first.out).toContain(`stale ${prefix}product:2 cached entry v1 < database v4`);
    expect((await run(['--repair'])).code).toBe(0);
    expect((await run([])).code).toBe(0);
  });

  it('matches the key prefix literally', () => {
    expect(escapeGlob('t:[a]*?\\')).toBe('t:\\[a\\]\\*\\?\\\\');
  });
});
