/**
 * `outbox-cache demo`: the whole loop on one machine, side by side with plain cache-aside. Starts
 * a local MariaDB (binlog on) and Redis (or uses given ones), creates the outbox and a `product`
 * table, runs the embedded relay in Redis mode with the default mapping, and drives the same
 * concurrent workload against a guarded cache and a plain cache-aside one. After the writers stop
 * it waits for the relay to apply every committed write, then compares each cache with the
 * database and returns (and prints) the summary.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createConnection, createPool, type Pool } from 'mysql2/promise';
import { RedisCacheWriter } from '../cache/redis-cache-writer.js';
import { AvroCodec } from '../codec/codec.js';
import { errorMessage } from '../errors.js';
import { startMariaDb, startRedis, type LocalServer } from '../local-servers/index.js';
import { outboxSubject } from '../outbox/event.js';
import { migrateOutbox } from '../outbox/migrate.js';
import { startRelay } from '../relay/relay.js';
import type { RelayLogger } from '../relay/logger.js';
import { sleep } from '../retry.js';
import { createApplyStep } from '../sink/apply-step.js';
import { guardedCache, plainCache } from './caches.js';
import { LocalSchemaRegistry } from './local-registry.js';
import { SHIPPED_AVRO_DIR } from './package-root.js';
import { allProducts, ensureProducts, PRODUCT_AGGREGATE, updateProduct } from './product-table.js';
import { progressLine, summaryText, type CacheSummary, type DemoSummary } from './report.js';
import { staleKeys, type CacheTally } from './stats.js';
import { runWorkload, type Workload } from './workload.js';

/** Options of {@link runDemo}. Durations in ms. */
export interface DemoOptions {
  readonly durationMs: number;
  readonly writers: number;
  /** Readers per cache. */
  readonly readers: number;
  readonly keys: number;
  /** Upper bound of the random pause between a reader's database read and its fill. */
  readonly fillDelayMs: number;
  /** Aborting ends the workload early; the summary is still computed and printed. */
  readonly signal: AbortSignal;
  /** Receives the demo's text output (progress lines, summary). */
  readonly out: (text: string) => void;
  /** Receives warnings (relay errors, failed reads or writes). */
  readonly err: (text: string) => void;
  /**
   * Existing servers to use instead of starting local ones (tests): MariaDB with the binlog on
   * (ROW, FULL) and a root-like user, and Redis. The demo then works in its own new database and
   * key prefix, and removes both at the end.
   */
  readonly servers?: { readonly mysqlUrl: string; readonly redisUrl: string };
  /** Default 1,000. */
  readonly progressIntervalMs?: number;
  /** How long to wait for the relay to apply every committed write. Default 15,000. */
  readonly drainTimeoutMs?: number;
}

const WRITE_PAUSE_MS = 20;
const READ_PAUSE_MS = 2;
const ENTRY_TTL_MS = 600_000;

type Cleanup = () => Promise<unknown>;

/** Runs the demo; resolves to its summary, or undefined when stopped before the workload began. */
export async function runDemo(options: DemoOptions): Promise<DemoSummary | undefined> {
  const cleanups: Cleanup[] = [];
  try {
    const { mysqlUrl, redisUrl, isolated } = await servers(options, cleanups);
    if (options.signal.aborted) return undefined;
    const suffix = isolated ? `_${randomBytes(4).toString('hex')}` : '';
    const database = `outbox_cache_demo${suffix}`;
    const url = new URL(mysqlUrl);
    const admin = await createConnection({ uri: url.toString() });
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database}\``);
    await admin.end();
    if (isolated) cleanups.push(() => dropDatabase(url.toString(), database));
    url.pathname = `/${database}`;
    const pool = (limit: number): Pool => {
      const p = createPool({ uri: url.toString(), connectionLimit: limit, timezone: 'Z', supportBigNumbers: true });
      cleanups.push(() => p.end());
      return p;
    };
    // Separate pools: the relay's position writes must not queue behind writers or readers.
    const writerPool = pool(options.writers + 1);
    const readerPool = pool(options.readers * 2 + 2);
    const relayPool = pool(3);
    const setup = await writerPool.getConnection();
    try {
      await migrateOutbox(setup);
    } finally {
      setup.release();
    }
    await ensureProducts(writerPool, options.keys);

    const registry = await LocalSchemaRegistry.fromDirectory(SHIPPED_AVRO_DIR);
    const codec = new AvroCodec({ registry });
    const schema = await codec.writerSchema(outboxSubject(PRODUCT_AGGREGATE));
    const redis = (): Redis => {
      const r = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      cleanups.push(async () => r.disconnect());
      return r;
    };
    const keyBase = isolated ? `demo${suffix}:` : 'demo:';
    const guardedPrefix = `${keyBase}guarded:`;
    const plainPrefix = `${keyBase}plain:`;
    const readerRedis = redis();
    if (isolated) cleanups.push(() => deleteKeys(readerRedis, keyBase));

    const applied = new Map<string, bigint>();
    const relayCounts = { events: 0, changed: 0, superseded: 0, skipped: 0 };
    const step = createApplyStep({
      decoder: codec,
      writer: new RedisCacheWriter({ redis: redis(), entryTtlMs: ENTRY_TTL_MS }),
      mapping: { keyPrefix: guardedPrefix },
    });
    const relayStop = new AbortController();
    const relay = await startRelay({
      pool: relayPool, connection: { uri: url.toString() }, database, relayName: 'demo', signal: relayStop.signal,
      logger: relayLogger(options.err),
      apply: async (events) => {
        const report = await step(events);
        for (const { event, error } of report.poisoned) options.err(`relay skipped event ${event.id}: ${error.message}\n`);
        relayCounts.events += events.length;
        relayCounts.changed += report.applied;
        relayCounts.superseded += report.stale;
        relayCounts.skipped += report.poisoned.length;
        for (const event of events) {
          if ((applied.get(event.aggregateId) ?? 0n) < event.version) applied.set(event.aggregateId, event.version);
        }
        return report;
      },
    });
    cleanups.push(async () => {
      relayStop.abort();
      await relay.done.catch((err: unknown) => options.err(`relay stopped with an error: ${errorMessage(err)}\n`));
    });
    if (options.signal.aborted) return undefined;

    options.out(introText(options, schema.id, isolated ? undefined : { mysqlUrl, redisUrl }));
    const cacheOptions = { redis: readerRedis, pool: readerPool, entryTtlMs: ENTRY_TTL_MS, fillDelayMs: () => Math.random() * options.fillDelayMs };
    const guarded = guardedCache({ ...cacheOptions, keyPrefix: guardedPrefix });
    const plain = plainCache({ ...cacheOptions, keyPrefix: plainPrefix });
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), options.durationMs);
    const onAbort = (): void => stop.abort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    let reportedErrors = 0;
    const startedAt = performance.now();
    const workload = runWorkload({
      writers: options.writers, readers: options.readers, keys: options.keys, caches: [guarded, plain], stop: stop.signal,
      writePauseMs: WRITE_PAUSE_MS, readPauseMs: READ_PAUSE_MS,
      write: async (id) => (await updateProduct(writerPool, id, { name: `product ${id} @${Date.now()}`, priceCents: 100 + Math.floor(Math.random() * 9900) }, schema)).version,
      onError: (err, what) => {
        if (++reportedErrors <= 5) options.err(`${what} failed: ${errorMessage(err)}\n`);
      },
    });
    const counters = (w: Workload, i: number) => (w.tallies[i] as CacheTally).counters();
    const progress = setInterval(() => {
      options.out(`${progressLine(performance.now() - startedAt, workload.writes(), counters(workload, 0), counters(workload, 1))}\n`);
    }, options.progressIntervalMs ?? 1000);
    try {
      await workload.done;
    } finally {
      clearInterval(progress);
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
    }
    const elapsedMs = performance.now() - startedAt;
    options.out('Writers stopped; waiting for the relay to apply every committed write...\n');
    const ids = Array.from({ length: options.keys }, (_, i) => i + 1);
    const drained = await waitFor(() => ids.every((id) => (applied.get(String(id)) ?? 0n) >= workload.book.latest(id)), options.drainTimeoutMs ?? 15_000);
    const dbVersions = new Map([...(await allProducts(readerPool))].map(([id, p]) => [id, p.version]));
    const summarize = async (cache: typeof guarded, i: number): Promise<CacheSummary> => ({
      ...counters(workload, i),
      staleKeys: staleKeys(dbVersions, await cache.cachedVersions(ids)).length,
    });
    const summary: DemoSummary = {
      elapsedMs, writes: workload.writes(), keys: options.keys, drained, relay: { ...relayCounts },
      interrupted: options.signal.aborted,
      guarded: await summarize(guarded, 0),
      plain: await summarize(plain, 1),
    };
    options.out(`\n${summaryText(summary)}`);
    return summary;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  }
}

/** The given servers, or local ones started now (stopped by the cleanups). */
async function servers(options: DemoOptions, cleanups: Cleanup[]): Promise<{ mysqlUrl: string; redisUrl: string; isolated: boolean }> {
  if (options.servers) return { ...options.servers, isolated: true };
  options.out('Starting MariaDB (binlog on) and Redis on 127.0.0.1, in temporary directories...\n');
  const started = await Promise.allSettled([startMariaDb(), startRedis()]);
  const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value as LocalServer] : []));
  for (const server of running) cleanups.push(() => server.stop());
  const [mariadb, redis] = started;
  if (mariadb?.status === 'rejected') throw mariadb.reason;
  if (redis?.status === 'rejected') throw redis.reason;
  if (mariadb?.status !== 'fulfilled' || redis?.status !== 'fulfilled') throw new Error('unreachable');
  return { mysqlUrl: mariadb.value.url, redisUrl: redis.value.url, isolated: false };
}

function introText(options: DemoOptions, schemaId: number, local: { mysqlUrl: string; redisUrl: string } | undefined): string {
  const where = local ? `MariaDB ${new URL(local.mysqlUrl).host} and Redis ${new URL(local.redisUrl).host} (stopped on exit).` : 'the given MariaDB and Redis.';
  return [
    `Demo: ${options.writers} writers, ${options.readers} readers per cache, ${options.keys} products, ${Math.round(options.durationMs / 1000)} s, on ${where}`,
    '  guarded:     each write updates a product and publishes a CacheChange (INVALIDATE) through the outbox in',
    '               the same transaction; the embedded relay tails the binlog and tombstones product:<id> at the',
    '               new version; readers use the version-guarded read-through.',
    '  cache-aside: the same writes, then DEL of the key; readers GET, and on a miss read MySQL and SET.',
    `  Readers of both caches pause a random 0-${options.fillDelayMs} ms between their database read and their cache fill,`,
    '  so that the race cache-aside is exposed to shows up within seconds.',
    `  No Schema Registry here: events are Avro under the shipped schema io.outboxcache.CacheChange with the local`,
    `  id ${schemaId}, served to the relay by an in-process registry built from schemas/avro.`,
    'Ctrl-C stops early and still prints the summary.',
    '',
  ].join('\n');
}

function relayLogger(err: (text: string) => void): RelayLogger {
  const line = (level: string) => (fields: object, message: string): void => err(`relay ${level}: ${message} ${JSON.stringify(fields)}\n`);
  return { debug: () => {}, info: () => {}, warn: line('warning'), error: line('error') };
}

/** Polls `done` every 20 ms until it is true (resolves true) or `timeoutMs` passes (false). */
async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const conn = await createConnection({ uri: serverUrl });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${database}\``);
  } finally {
    await conn.end();
  }
}

async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}
