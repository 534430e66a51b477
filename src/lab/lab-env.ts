/**
 * The lab's servers and connections: a MariaDB (given, or started locally with the binlog on), a
 * Redis of its own (so it may restart it) behind the fault proxy, optionally a lagging replica,
 * the lab's own database with `lab_item` and its outbox tables, and the pools. Everything it
 * opens is closed by `close()`, in reverse order; a given server is left running with the lab's
 * database dropped.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createConnection, createPool, type Pool } from 'mysql2/promise';
import { AvroCodec } from '../codec/codec.js';
import type { WriterSchema } from '../codec/types.js';
import { LocalSchemaRegistry } from '../demo/local-registry.js';
import { SHIPPED_AVRO_DIR } from '../demo/package-root.js';
import { startMariaDb, startRedis, type LocalRedis } from '../local-servers/index.js';
import { outboxSubject } from '../outbox/event.js';
import { migrateOutbox } from '../outbox/migrate.js';
import { ensureItems, LAB_AGGREGATE } from './item-table.js';
import { startRedisProxy, type RedisProxy } from './redis-proxy.js';
import { startReplica, type LabReplica } from './replica.js';
import { BINLOG_DELETE_TABLE } from './strategies/binlog-delete.js';
import { OURS_L1_TABLE, OURS_TABLE } from './strategies/ours.js';

/** What {@link openLabEnv} needs. */
export interface LabEnvOptions {
  /** An existing MariaDB (binlog ROW/FULL, a root-like user); default: start one locally. */
  readonly mysqlUrl?: string;
  /** Rows are created for each of these names. */
  readonly strategies: readonly string[];
  readonly keys: number;
  /** Start a replica delayed by this many seconds; undefined: none. */
  readonly replicaDelaySeconds?: number;
  /** Connections for the writers' and readers' pools. */
  readonly writers: number;
  readonly readers: number;
  /** Told what is being started (a line each). */
  readonly say: (text: string) => void;
}

/** The opened environment. */
export interface LabEnv {
  readonly database: string;
  /** MariaDB URL with the lab's database selected. */
  readonly databaseUrl: string;
  /** Where the primary runs, for the intro line. */
  readonly mysqlHost: string;
  readonly writePool: Pool;
  readonly readPool: Pool;
  readonly replica: LabReplica | undefined;
  readonly proxy: RedisProxy;
  /** A client of the application side (through the proxy), closed with the env. */
  appRedis(): Redis;
  /** The auditor's client, straight to Redis (faults of the app's connections do not apply). */
  readonly auditRedis: Redis;
  readonly events: { readonly codec: AvroCodec; readonly schema: WriterSchema };
  /** Restarts Redis on its port (empty, no persistence); resolves once it answers again. */
  restartRedis(): Promise<void>;
  close(): Promise<void>;
}

/** Opens everything the lab needs; on failure, closes what it had opened and rethrows. */
export async function openLabEnv(options: LabEnvOptions): Promise<LabEnv> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    cleanups.length = 0;
  };
  try {
    let mysqlUrl = options.mysqlUrl;
    if (!mysqlUrl) {
      options.say('Starting MariaDB (binlog on) and Redis on 127.0.0.1, in temporary directories...');
      const mariadb = await startMariaDb();
      cleanups.push(() => mariadb.stop());
      mysqlUrl = mariadb.url;
    }
    let redisServer: LocalRedis = await startRedis();
    cleanups.push(() => redisServer.stop());
    const database = `outbox_cache_lab_${randomBytes(4).toString('hex')}`;
    let replica: LabReplica | undefined;
    if (options.replicaDelaySeconds !== undefined) {
      options.say(`Starting a MariaDB replica delayed by ${options.replicaDelaySeconds} s (MASTER_DELAY)...`);
      replica = await startReplica({ primaryUrl: mysqlUrl, database, delaySeconds: options.replicaDelaySeconds, readers: options.readers });
      const started = replica;
      cleanups.push(() => started.stop());
    }
    const admin = await createConnection({ uri: mysqlUrl });
    await admin.query(`CREATE DATABASE \`${database}\``);
    await admin.end();
    cleanups.push(async () => {
      const conn = await createConnection({ uri: mysqlUrl });
      await conn.query(`DROP DATABASE IF EXISTS \`${database}\``).finally(() => conn.end());
    });
    const url = new URL(mysqlUrl);
    url.pathname = `/${database}`;
    const pool = (limit: number): Pool => {
      const p = createPool({ uri: url.toString(), connectionLimit: limit, timezone: 'Z', supportBigNumbers: true });
      cleanups.push(() => p.end());
      return p;
    };
    const writePool = pool(options.writers + 4);
    const readPool = pool(options.readers + 4);
    const setup = await writePool.getConnection();
    try {
      await migrateOutbox(setup, { table: OURS_TABLE });
      await migrateOutbox(setup, { table: OURS_L1_TABLE });
      await migrateOutbox(setup, { table: BINLOG_DELETE_TABLE });
    } finally {
      setup.release();
    }
    await ensureItems(writePool, options.strategies, options.keys);

    const proxy = await startRedisProxy(redisServer.port);
    cleanups.push(() => proxy.close());
    const clients: Redis[] = [];
    cleanups.push(async () => clients.forEach((c) => c.disconnect()));
    const client = (target: string, appSide: boolean): Redis => {
      const redis = new Redis(target, {
        maxRetriesPerRequest: 1,
        // The app side fails fast while Redis is unreachable (the fault); the auditor waits.
        enableOfflineQueue: !appSide,
        retryStrategy: () => 50,
      });
      redis.on('error', () => {});
      clients.push(redis);
      return redis;
    };
    const auditRedis = client(redisServer.url, false);
    await auditRedis.ping();

    const registry = await LocalSchemaRegistry.fromDirectory(SHIPPED_AVRO_DIR);
    const codec = new AvroCodec({ registry });
    const schema = await codec.writerSchema(outboxSubject(LAB_AGGREGATE));

    return {
      database, databaseUrl: url.toString(), mysqlHost: new URL(mysqlUrl).host,
      writePool, readPool, replica, proxy, auditRedis, events: { codec, schema },
      appRedis: () => client(proxy.url, true),
      async restartRedis() {
        const port = redisServer.port;
        await redisServer.stop(2000);
        redisServer = await startRedis({ port });
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Resolves once `redis` is connected and ready (its offline queue may be off). */
export function whenReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}
