/**
 * The local servers the demo, the tests and the benchmarks start must be their own: a server
 * already listening on the chosen port (another process won the race for a "free" port) is never
 * taken for the one just started. Here the port is forced to the shared test servers' own.
 */
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { startMariaDb, startRedis } from '../../src/local-servers/index.js';

describe('local servers on a port another server holds', () => {
  it('refuses to report a Redis that is not the one it started', async () => {
    const port = Number(new URL(inject('redisUrl')).port);
    await expect(startRedis({ port })).rejects.toThrow(/exited/);
    const shared = new Redis(inject('redisUrl'));
    try {
      expect(await shared.ping()).toBe('PONG');
    } finally {
      shared.disconnect();
    }
  });

  it('refuses to report a MariaDB that is not the one it started', async () => {
    const port = Number(new URL(inject('mysqlUrl')).port);
    await expect(startMariaDb({ port })).rejects.toThrow(/exited/);
  });
});
