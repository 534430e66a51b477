/**
 * Commit-to-Redis latency of the embedded mode at a steady write rate: a MariaDB started here with
 * durable commits (sync_binlog=1, innodb_flush_log_at_trx_commit=1), a Redis, and the embedded
 * relay (own MySQL pool, the sink's apply step, default mapping) invalidating `product:<id>`. The
 * relay runs in a worker thread, with an event loop of its own as `outbox-cache run` has in its own
 * process: it does not queue behind the writers' callbacks.
 *
 * Writers follow an open-loop schedule (BENCH_RATE transactions per second, each started at its
 * due time whether or not earlier ones finished; each updates a random product of 10,000 and
 * publishes its CacheChange event through the outbox writer). Latency runs from the moment a
 * transaction's commit returns to the writer to the moment the key's new version is visible in
 * Redis: Redis keyspace notifications (`notify-keyspace-events K$`) tell which key changed, and a
 * GET of that key gives its version; the GET's reply time counts as the visible time (an upper
 * bound, by one round trip). A version already visible when its commit returns counts as 0 ms.
 *
 * Several rounds (BENCH_ROUNDS, default 3) of BENCH_SECONDS (default 15) each, after a warm-up;
 * reports each round and the medians. Last output line:
 * {"bench":"e2e","rate_per_s":…,"p50_ms":…,"p99_ms":…}. Target: p99 ≤ 50 ms at 1,000 writes/s.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Redis } from 'ioredis';
import { createConnection, createPool } from 'mysql2/promise';
import { RedisCacheWriter } from '../src/cache/redis-cache-writer.js';
import { decodeStoredValue } from '../src/cache/stored-value.js';
import { AvroCodec } from '../src/codec/codec.js';
import { LocalSchemaRegistry } from '../src/demo/local-registry.js';
import { SHIPPED_AVRO_DIR } from '../src/demo/package-root.js';
import { ensureProducts, PRODUCT_AGGREGATE, updateProduct } from '../src/demo/product-table.js';
import { startMariaDb, startRedis } from '../src/local-servers/index.js';
import { outboxSubject } from '../src/outbox/event.js';
import { migrateOutbox } from '../src/outbox/migrate.js';
import { startRelay } from '../src/relay/index.js';
import { sleep } from '../src/retry.js';
import { createApplyStep } from '../src/sink/apply-step.js';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_SECONDS = 3;
const KEYS = 10_000;
const PREFIX = 'bench:';

interface Round {
  readonly scheduled: number;
  readonly committed: number;
  readonly failed: number;
  /** Committed transactions per second over the round's schedule. */
  readonly ratePerS: number;
  readonly latenciesMs: number[];
  /** Writes whose version was already visible in Redis when their commit returned (counted as 0 ms). */
  readonly visibleAtReturn: number;
  readonly lost: number;
  /** Latest a transaction started after its due time, ms (the writers falling behind the schedule). */
  readonly maxStartLagMs: number;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
};
const round2 = (x: number): number => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const [mariadb, redisServer] = await Promise.all([startMariaDb({ durable: true }), startRedis()]);
  const closers: (() => Promise<unknown>)[] = [() => mariadb.stop(), () => redisServer.stop()];
  try {
    const admin = await createConnection({ uri: mariadb.url });
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const uri = `${mariadb.url}bench`;
    const writerPool = createPool({ uri, connectionLimit: 64, timezone: 'Z', supportBigNumbers: true });
    closers.unshift(() => writerPool.end());
    const setup = await writerPool.getConnection();
    await migrateOutbox(setup);
    setup.release();
    await ensureProducts(writerPool, KEYS);

    const codec = new AvroCodec({ registry: await LocalSchemaRegistry.fromDirectory(SHIPPED_AVRO_DIR) });
    const schema = await codec.writerSchema(outboxSubject(PRODUCT_AGGREGATE));
    const reader = new Redis(redisServer.url);
    const subscriber = new Redis(redisServer.url);
    closers.unshift(async () => [reader, subscriber].forEach((r) => r.disconnect()));
    await reader.config('SET', 'notify-keyspace-events', 'K$');

    const relay = await startRelayWorker({ uri, redisUrl: redisServer.url });
    closers.unshift(() => relay.stop());

    // Visible version per key, and the writes waiting to become visible.
    const visible = new Map<number, bigint>();
    const waiting = new Map<number, { version: bigint; committedAt: number; round: Round }[]>();
    const record = (id: number, version: bigint, at: number): void => {
      if (version > (visible.get(id) ?? 0n)) visible.set(id, version);
      const list = waiting.get(id);
      if (!list) return;
      const rest = list.filter((w) => {
        if (w.version > version) return true;
        w.round.latenciesMs.push(Math.max(0, at - w.committedAt));
        return false;
      });
      if (rest.length) waiting.set(id, rest);
      else waiting.delete(id);
    };
    const channelPrefix = '__keyspace@0__:';
    subscriber.on('pmessage', (_pattern: string, channel: string) => {
      const key = channel.slice(channelPrefix.length);
      const id = Number(key.slice(key.lastIndexOf(':') + 1));
      void reader.getBuffer(key).then((raw) => {
        const stored = decodeStoredValue(raw);
        if (stored) record(id, stored.version, performance.now());
      });
    });
    await subscriber.psubscribe(`${channelPrefix}${PREFIX}${PRODUCT_AGGREGATE}:*`);

    const runRound = async (seconds: number): Promise<Round> => {
      const round: Round = { scheduled: 0, committed: 0, failed: 0, ratePerS: 0, latenciesMs: [], visibleAtReturn: 0, lost: 0, maxStartLagMs: 0 };
      const mutable = round as { -readonly [K in keyof Round]: Round[K] };
      const total = Math.round(seconds * RATE);
      const start = performance.now();
      const inFlight: Promise<void>[] = [];
      let lastCommit = start;
      for (let i = 0; i < total; i++) {
        const due = start + (i * 1000) / RATE;
        const wait = due - performance.now();
        if (wait > 1) await sleep(wait);
        mutable.maxStartLagMs = Math.max(round.maxStartLagMs, performance.now() - due);
        mutable.scheduled += 1;
        const id = 1 + Math.floor(Math.random() * KEYS);
        inFlight.push(updateProduct(writerPool, id, { name: `p${id}-${i}`, priceCents: i }, schema).then(({ version }) => {
          const committedAt = performance.now();
          lastCommit = committedAt;
          mutable.committed += 1;
          if ((visible.get(id) ?? 0n) >= version) {
            round.latenciesMs.push(0);
            mutable.visibleAtReturn += 1;
          } else waiting.set(id, [...(waiting.get(id) ?? []), { version, committedAt, round }]);
        }, () => void (mutable.failed += 1)));
      }
      await Promise.all(inFlight);
      mutable.ratePerS = round.committed / ((lastCommit - start) / 1000);
      const deadline = performance.now() + 10_000;
      while (round.latenciesMs.length < round.committed && performance.now() < deadline) await sleep(20);
      mutable.lost = round.committed - round.latenciesMs.length;
      return round;
    };

    console.log(`bench/e2e: ${RATE} writes/s, ${ROUNDS} rounds of ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up, durable MariaDB, ${KEYS} keys`);
    await runRound(WARMUP_SECONDS);
    const rounds: Round[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const round = await runRound(SECONDS);
      rounds.push(round);
      const sorted = [...round.latenciesMs].sort((a, b) => a - b);
      console.log(
        `round ${r}: ${round.committed}/${round.scheduled} committed (${round.failed} failed) at ${round2(round.ratePerS)}/s, ` +
          `max start lag ${round2(round.maxStartLagMs)} ms; commit→Redis p50 ${round2(percentile(sorted, 0.5))} ms, ` +
          `p99 ${round2(percentile(sorted, 0.99))} ms, max ${round2(sorted.at(-1) ?? NaN)} ms; ` +
          `already visible when the commit returned: ${round.visibleAtReturn}; not visible after 10 s: ${round.lost}`,
      );
    }
    const p = (q: number): number[] => rounds.map((round) => percentile([...round.latenciesMs].sort((a, b) => a - b), q));
    const stats = await relay.stats();
    console.log(`relay: ${stats.events} events in ${stats.batches} batches (${round2(stats.events / Math.max(1, stats.batches))} per batch)`);
    console.log(JSON.stringify({ bench: 'e2e', rate_per_s: round2(median(rounds.map((r) => r.ratePerS))), p50_ms: round2(median(p(0.5))), p99_ms: round2(median(p(0.99))) }));
  } finally {
    for (const close of closers) await close().catch(() => {});
  }
}

interface RelayWorkerData {
  readonly uri: string;
  readonly redisUrl: string;
}

/** Starts the relay in a worker thread; resolves once its binlog stream is open. */
async function startRelayWorker(data: RelayWorkerData): Promise<{ stats(): Promise<{ events: number; batches: number }>; stop(): Promise<void> }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const next = (): Promise<{ type: string; events?: number; batches?: number; error?: string }> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const ready = await next();
  if (ready.type !== 'ready') throw new Error(`relay worker: ${ready.error ?? ready.type}`);
  return {
    async stats() {
      const answer = next();
      worker.postMessage('stats');
      const { events = 0, batches = 0 } = await answer;
      return { events, batches };
    },
    async stop() {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('stop');
      await exited;
    },
  };
}

/** The worker's side: the relay with its own pool and Redis client, until told to stop. */
async function relayWorker(data: RelayWorkerData): Promise<void> {
  const port = parentPort;
  if (!port) return;
  // The relay's own pool: sharing the writers' would queue its position writes behind them.
  const pool = createPool({ uri: data.uri, connectionLimit: 3, timezone: 'Z', supportBigNumbers: true });
  const redis = new Redis(data.redisUrl, { maxRetriesPerRequest: 1 });
  const stop = new AbortController();
  try {
    const codec = new AvroCodec({ registry: await LocalSchemaRegistry.fromDirectory(SHIPPED_AVRO_DIR) });
    const relay = await startRelay({
      pool, connection: { uri: data.uri }, database: 'bench', relayName: 'bench', signal: stop.signal,
      apply: createApplyStep({ decoder: codec, writer: new RedisCacheWriter({ redis }), mapping: { keyPrefix: PREFIX } }),
    });
    port.on('message', (message: string) => {
      if (message === 'stop') stop.abort();
      else port.postMessage({ type: 'stats', ...relay.stats() });
    });
    port.postMessage({ type: 'ready' });
    await relay.done;
  } catch (err) {
    port.postMessage({ type: 'failed', error: err instanceof Error ? err.message : String(err) });
  } finally {
    port.close();
    redis.disconnect();
    await pool.end();
  }
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  void relayWorker(workerData as RelayWorkerData);
}
