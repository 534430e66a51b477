import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, createTestRedis, createTestKafka, type TestDatabase } from '../helpers.js';

/** Name of the executable behind a PID, from /proc. */
function commandOf(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

describe('test servers', () => {
  let db: TestDatabase | undefined;
  afterAll(async () => db?.drop());

  it('runs a real MariaDB started by the setup, binlog on in ROW/FULL format', async () => {
    const pid = inject('serverPids').mariadb;
    if (!process.env.MYSQL_URL) expect(pid && commandOf(pid)).toBe('mariadbd');
    db = await createTestDatabase('harness');
    const [rows] = await db.pool.query(
      "SELECT @@log_bin AS log_bin, @@binlog_format AS format, @@binlog_row_image AS image, @@server_id AS server_id, VERSION() AS version",
    );
    const row = (rows as Record<string, unknown>[])[0];
    expect(row).toMatchObject({ log_bin: 1, format: 'ROW', image: 'FULL' });
    expect(Number(row?.server_id)).toBeGreaterThan(0);
    expect(String(row?.version)).toMatch(/MariaDB|^8\./);
  });

  it('runs a real Redis started by the setup', async () => {
    const pid = inject('serverPids').redis;
    if (!process.env.REDIS_URL) expect(pid && commandOf(pid)).toMatch(/^redis-server/);
    const { redis, prefix } = createTestRedis();
    try {
      expect(await redis.ping()).toBe('PONG');
      await redis.set(`${prefix}k`, 'v');
      expect(await redis.get(`${prefix}k`)).toBe('v');
      const info = await redis.info('server');
      expect(info).toMatch(/redis_version:/);
    } finally {
      redis.disconnect();
    }
  });

  it('serves the Kafka protocol from the mock cluster with 3 brokers', async () => {
    const pid = inject('serverPids').kafka;
    if (!process.env.KAFKA_BROKERS) expect(pid && commandOf(pid)).toBe('kcat');
    const admin = createTestKafka().admin();
    await admin.connect();
    try {
      const cluster = await admin.describeCluster();
      expect(cluster.brokers.length).toBe(process.env.KAFKA_BROKERS ? cluster.brokers.length : 3);
    } finally {
      await admin.disconnect();
    }
  });
});
