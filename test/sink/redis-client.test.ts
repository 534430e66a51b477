/**
 * The Redis client the sink and the relay build (createRedisClient): it works against the real
 * Redis, and while Redis is unreachable its commands fail at once instead of queueing, for a
 * single node and for a Cluster alike.
 */
import { createServer } from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import { createRedisClient } from '../../src/ops/clients.js';
import { uniqueName } from '../helpers.js';

const settings = { redisCluster: false, redisTlsRejectUnauthorized: true };

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** How a command ends on `client` within `ms`: its error message, 'ok', or 'still queued'. */
async function outcome(call: () => Promise<unknown>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('still queued'), ms)));
  try {
    return await Promise.race([call().then(() => 'ok', (err: Error) => err.message), late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('createRedisClient', () => {
  it('talks to a reachable Redis', async () => {
    const redis = createRedisClient({ ...settings, redisUrl: [inject('redisUrl')] });
    try {
      const key = `t:${uniqueName('client')}`;
      // The offline queue is off: commands wait for the connection only through the caller's retries.
      await expect.poll(() => outcome(() => redis.set(key, 'v', 'PX', 10_000), 1000), { timeout: 5000 }).toBe('ok');
      expect(await redis.get(key)).toBe('v');
    } finally {
      redis.disconnect();
    }
  });

  it('fails commands at once while a single node is unreachable', async () => {
    const redis = createRedisClient({ ...settings, redisUrl: [`redis://127.0.0.1:${await closedPort()}`] });
    redis.on('error', () => {});
    try {
      expect(await outcome(() => redis.get('k'), 1000)).toMatch(/enableOfflineQueue/);
    } finally {
      redis.disconnect();
    }
  });

  it('fails commands at once while no Cluster node is reachable', async () => {
    const port = await closedPort();
    const redis = createRedisClient({ ...settings, redisCluster: true, redisUrl: [`redis://127.0.0.1:${port}`] });
    redis.on('error', () => {});
    try {
      expect(await outcome(() => redis.get('k'), 1000)).toMatch(/enableOfflineQueue/);
    } finally {
      redis.disconnect();
    }
  });
});
