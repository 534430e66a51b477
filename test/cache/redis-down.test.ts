/**
 * Redis unreachable: the writer and the read path fail with a clear retriable error within their
 * deadline, and leave no partial state (a batch lands whole or not at all, a read does not fill).
 * Redis restarted empty in the middle of a read: the lease went with it, so the read does not
 * fill. Runs its own Redis so it can stop and restart it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { CacheAction } from '../../src/cache/actions.js';
import { createReadThrough } from '../../src/cache/read-through.js';
import { RedisCacheWriter } from '../../src/cache/redis-cache-writer.js';
import { ScriptError } from '../../src/errors.js';
import { startRedis, type LocalRedis } from '../../src/local-servers/index.js';
import { waitUntil } from '../helpers.js';

let server: LocalRedis;
let queued: Redis;
let unqueued: Redis;

beforeAll(async () => {
  server = await startRedis();
  // `queued`: ioredis defaults (offline queue on); `unqueued`: the configuration the README recommends.
  queued = new Redis(server.url);
  unqueued = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  // Connection errors are expected here; the assertions look at what the calls return.
  for (const client of [queued, unqueued]) client.on('error', () => undefined);
  await Promise.all([queued.ping(), waitUntil('unqueued client ready', () => unqueued.status === 'ready')]);
});
afterAll(async () => {
  queued.disconnect();
  unqueued.disconnect();
  await server.stop();
});

const batch = (tag: string): CacheAction[] =>
  Array.from({ length: 20 }, (_v, i) => ({ kind: 'upsert', key: `${tag}:${i}`, version: 5n, value: Buffer.from(tag) }));

async function expectUnavailable(promise: Promise<unknown>, withinMs: number): Promise<void> {
  const started = Date.now();
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ScriptError);
  expect(error).toMatchObject({ code: 'REDIS_UNAVAILABLE', retriable: true });
  expect((error as Error).message).toMatch(/Redis unavailable/);
  expect(Date.now() - started).toBeLessThan(withinMs);
}

it('fails fast and retriably while Redis is down, and leaves no partial state', async () => {
  const timeouts = { commandTimeoutMs: 400 };
  const queuedWriter = new RedisCacheWriter({ redis: queued, ...timeouts });
  const unqueuedWriter = new RedisCacheWriter({ redis: unqueued, ...timeouts });
  let loads = 0;
  const cache = createReadThrough<string>({
    redis: unqueued, codec: 'json', ...timeouts, loader: async () => (loads++, { version: 1n, value: 'db' }),
  });
  expect(await queuedWriter.applyBatch(batch('before'))).toEqual(Array(20).fill('applied'));

  const port = server.port;
  await server.stop();
  await waitUntil('clients saw Redis go', () => queued.status !== 'ready' && unqueued.status !== 'ready');

  await expectUnavailable(queuedWriter.applyBatch(batch('queued')), 2_000);
  await expectUnavailable(unqueuedWriter.applyBatch(batch('unqueued')), 2_000);
  await expectUnavailable(cache.get('read'), 2_000);
  expect(loads).toBe(0);

  server = await startRedis({ port });
  await waitUntil('clients reconnected', () => queued.status === 'ready' && unqueued.status === 'ready');
  // A PING on each connection runs after anything the client still had queued for it.
  await Promise.all([queued.ping(), unqueued.ping()]);
  const present = async (tag: string) =>
    (await Promise.all(batch(tag).map((a) => unqueued.exists(a.key)))).filter((n) => n === 1).length;
  expect(await present('unqueued')).toBe(0);
  // The default client may replay its queued call after reconnecting: whole or nothing, never part.
  expect([0, 20]).toContain(await present('queued'));
  expect(await unqueued.exists('read')).toBe(0);

  // The sink's retry of the failed batch succeeds and lands every action.
  await unqueuedWriter.applyBatch(batch('unqueued'));
  expect(await present('unqueued')).toBe(20);
  expect(await cache.get('read')).toBe('db');
});

it('does not fill when Redis restarted empty while the read was loading', async () => {
  let open = (): void => undefined;
  const parked = new Promise<void>((resolve) => (open = resolve));
  let loads = 0;
  const cache = createReadThrough<string>({
    redis: unqueued, codec: 'json', commandTimeoutMs: 400,
    loader: async () => {
      loads++;
      await parked;
      return { version: 1n, value: 'read before the restart' };
    },
  });
  const reading = cache.read('restarted');
  await waitUntil('the read holds its lease and loads', () => loads === 1);
  expect(await unqueued.get('restarted')).toMatch(/^L0:[0-9a-f]{32}$/);
  const port = server.port;
  await server.stop();
  server = await startRedis({ port });
  await waitUntil('client reconnected', () => unqueued.status === 'ready');
  open();
  expect(await reading).toEqual({ value: 'read before the restart', version: 1n, source: 'database', fill: 'lease-lost' });
  expect(await unqueued.exists('restarted')).toBe(0);
});
