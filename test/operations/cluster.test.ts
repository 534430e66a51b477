/**
 * Backfill and flush on a real three-node Redis Cluster: keys of one batch spread over every node
 * (the batch scripts are called once per hash slot) and the flush SCANs every master.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { startRedis, type LocalRedis } from '../../src/local-servers/index.js';
import { backfillNamespace } from '../../src/operations/backfill.js';
import { flushNamespace } from '../../src/operations/flush.js';
import { createTestDatabase, waitUntil, type TestDatabase } from '../helpers.js';

const run = promisify(execFile);
let nodes: LocalRedis[] = [];
let cluster: Cluster;
let db: TestDatabase;

beforeAll(async () => {
  [nodes, db] = await Promise.all([Promise.all([0, 1, 2].map(() => startRedis({ clusterEnabled: true }))), createTestDatabase('bfc')]);
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
  await waitUntil('cluster state ok on every node', async () => {
    const infos = await Promise.all(nodes.map((n) => run('redis-cli', ['-p', String(n.port), 'cluster', 'info'])));
    return infos.every((i) => i.stdout.includes('cluster_state:ok'));
  });
  cluster = new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), { redisOptions: { maxRetriesPerRequest: 2 } });
  await cluster.ping();
  await db.pool.query('CREATE TABLE products (id BIGINT PRIMARY KEY, name VARCHAR(32) NOT NULL, version BIGINT NOT NULL)');
  await db.pool.query('INSERT INTO products VALUES ?', [Array.from({ length: 150 }, (_v, i) => [i + 1, `p${i + 1}`, 2])]);
}, 60_000);
afterAll(async () => {
  cluster?.disconnect();
  await Promise.all(nodes.map((n) => n.stop()));
  await db?.drop();
});

it('backfills keys spread over every node, then flushes every master into tombstones', async () => {
  await cluster.set('c:product:7', 'E1:older', 'PX', 60_000);
  await cluster.set('c:product:8', 'E9:newer', 'PX', 60_000);
  const spec = { namespace: 'product', table: 'products', pk: 'id', key: 'product:{id}', version: { column: 'version' }, columns: ['name'], mode: 'fill' } as const;
  const result = await backfillNamespace({ redis: cluster, mysql: db.pool, spec, keyPrefix: 'c:', batchSize: 40 });
  expect(result.counts).toMatchObject({ rows: 150, written: 149, refused: 1 });
  expect(await cluster.get('c:product:7')).toBe('E2:{"name":"p7"}');
  expect(await cluster.get('c:product:8')).toBe('E9:newer');
  const perNode = await Promise.all(cluster.nodes('master').map((n) => n.dbsize()));
  expect(perNode.every((n) => n > 10)).toBe(true);

  const flush = await flushNamespace({ redis: cluster, namespace: 'product', keyPrefix: 'c:', tombstoneTtlMs: 30_000, scanCount: 25 });
  expect(flush.counts.entries).toBe(150);
  expect(await cluster.get('c:product:7')).toBe('T2:');
  expect(await cluster.get('c:product:8')).toBe('T9:');
});
