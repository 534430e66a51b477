/**
 * Per-file isolation over the shared test servers: every test file gets its own database, key
 * prefix, topics and consumer groups, so files run in parallel without seeing each other's data.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { createConnection, createPool, type Pool } from 'mysql2/promise';
import { waitFor } from '../src/local-servers/index.js';

/** A short random suffix, safe in SQL identifiers, Redis keys and topic names. */
export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** A unique name with a readable prefix, e.g. `uniqueName('orders')` → `orders_3fa9c01b2e`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${uniqueSuffix()}`;
}

/** A fresh database on the test MariaDB, with a pool bound to it. */
export interface TestDatabase {
  readonly name: string;
  /** URL with the database selected. */
  readonly url: string;
  readonly pool: Pool;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** Creates a new, empty database for one test file. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const serverUrl = inject('mysqlUrl');
  const name = uniqueName(prefix);
  const admin = await createConnection(serverUrl);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const pool = createPool({ uri: url.toString(), connectionLimit: 20, timezone: 'Z', supportBigNumbers: true });
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      const conn = await createConnection(serverUrl);
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

/** A Redis client for the test server plus a key prefix no other test file uses. */
export function createTestRedis(): { redis: Redis; prefix: string } {
  return { redis: new Redis(inject('redisUrl'), { lazyConnect: false }), prefix: `t:${uniqueSuffix()}:` };
}

/** A kafkajs client for the test Kafka endpoint, logging only errors. */
export function createTestKafka(clientId = uniqueName('test')): Kafka {
  return new Kafka({ clientId, brokers: inject('kafkaBrokers'), logLevel: logLevel.ERROR });
}

/** Waits until `probe` returns true, polling; fails with `what` after `timeoutMs` (default 20 s). */
export function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  return waitFor(what, async () => probe(), { timeoutMs, intervalMs: 25 });
}
