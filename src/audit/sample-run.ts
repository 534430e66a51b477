/**
 * Assembles `outbox-cache audit sample` from a validated {@link SampleConfig}: Redis from the
 * sink's settings, a small MySQL pool running the operator's queries, the guard's writer when
 * repair is on; writes the report file when asked.
 */
import { writeFile } from 'node:fs/promises';
import { createPool, type RowDataPacket } from 'mysql2/promise';
import { RedisCacheWriter } from '../cache/redis-cache-writer.js';
import { DecodeError, ScriptError } from '../errors.js';
import type { Cluster, Redis } from 'ioredis';
import { createRedisClient } from '../ops/clients.js';
import type { Logger } from '../ops/logger.js';
import { RedisHeaderReader } from './redis-headers.js';
import { sampleKeys, type SampleResult } from './sample.js';
import type { SampleConfig } from './sample-settings.js';

/** Runs one sampling pass (or until `signal` aborts) and returns what it found. */
export async function runSampleFromConfig(config: SampleConfig, options: { readonly signal: AbortSignal; readonly logger: Logger }): Promise<SampleResult> {
  const redis = createRedisClient(config);
  redis.on('error', (err: Error) => options.logger.warn({ err: err.message }, 'redis connection error'));
  const pool = createPool({ uri: config.mysqlUrl, connectionLimit: 2, supportBigNumbers: true, bigNumberStrings: true, connectTimeout: 10_000 });
  try {
    await connected(redis, 10_000);
    const result = await sampleKeys({
      redis, reader: new RedisHeaderReader(redis), keyPrefix: config.keyPrefix, namespaces: Object.keys(config.queries),
      versionOf: async (namespace, id) => {
        const [rows] = await pool.query<RowDataPacket[]>({ sql: config.queries[namespace]!, rowsAsArray: true }, [id]);
        const value: unknown = (rows[0] as unknown[] | undefined)?.[0];
        if (value === undefined || value === null) return undefined;
        if (!/^[0-9]{1,19}$/.test(String(value))) {
          throw new DecodeError(`query of '${namespace}' returned a version that is not a whole number`, { code: 'AUDIT_SAMPLE_BAD_VERSION' });
        }
        return BigInt(String(value));
      },
      keysPerSecond: config.keysPerSecond, maxKeys: config.maxKeys,
      repair: config.repair ? new RedisCacheWriter({ redis, entryTtlMs: config.entryTtlMs, negativeTtlMs: config.negativeTtlMs, tombstoneTtlMs: config.tombstoneTtlMs }) : undefined,
      logger: options.logger, signal: options.signal,
    });
    if (config.report) await writeFile(config.report, `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

/** Waits for the client's first connection (it fails fast, without an offline queue, until then). */
function connected(redis: Redis | Cluster, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ScriptError(`Redis not reachable within ${timeoutMs} ms`, { code: 'REDIS_UNAVAILABLE', retriable: true })), timeoutMs);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
