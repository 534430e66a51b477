/**
 * A real three-node Redis Cluster (three redis-server processes with cluster-enabled, joined by
 * `redis-cli --cluster create`) for the test files that need one; each file starts its own and
 * stops exactly its processes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { startRedis, type LocalRedis } from '../../src/local-servers/index.js';
import { waitUntil } from '../helpers.js';

const run = promisify(execFile);

/** A started cluster: its nodes, a connected client, and stop(). */
export interface LocalCluster {
  readonly nodes: readonly LocalRedis[];
  readonly cluster: Cluster;
  stop(): Promise<void>;
}

/** Starts three nodes, creates the cluster and waits until every node reports it ok. */
export async function startLocalCluster(): Promise<LocalCluster> {
  const nodes = await Promise.all([0, 1, 2].map(() => startRedis({ clusterEnabled: true })));
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
  await waitUntil('cluster state ok on every node', async () => {
    const infos = await Promise.all(nodes.map((n) => run('redis-cli', ['-p', String(n.port), 'cluster', 'info'])));
    return infos.every((i) => i.stdout.includes('cluster_state:ok'));
  });
  const cluster = new Cluster(nodes.map((n) => ({ host: '127.0.0.1', port: n.port })), { redisOptions: { maxRetriesPerRequest: 2 } });
  await cluster.ping();
  return {
    nodes,
    cluster,
    async stop() {
      cluster.disconnect();
      await Promise.all(nodes.map((n) => n.stop()));
    },
  };
}
