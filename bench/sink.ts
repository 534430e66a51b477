/**
 * Benchmark of `outbox-cache sink`: a topic pre-filled with Debezium-shaped records (standard
 * cache-change UPSERT events, Confluent-framed Avro, headers id/type/version, key = aggregateid)
 * over many keys with a hot set, on four topics, consumed in one run by
 *   - the sink itself as deployed: `npm run build`, then `node --max-old-space-size=128
 *     dist/cli/main.js sink` as a child process with its default settings, whose peak RSS (VmHWM)
 *     is read from /proc;
 *   - a naive sink: kafkajs eachMessage, same decode and mapping, one awaited Redis call per record,
 *     no coalescing;
 * and, on the same Redis, redis-benchmark's pipelined EVALSHA (-P 64) of the single-key guard
 * upsert script with the same value size. Starts its own Redis, Kafka mock cluster and Schema
 * Registry double. Last line:
 * {"bench":"sink","events_per_s":…,"naive_events_per_s":…,"redis_benchmark_evalsha_per_s":…,"vs_naive":…,"vs_redis":…,"peak_rss_mb":…}
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import avro from 'avsc';
import { Redis } from 'ioredis';
import { Kafka, Partitioners, logLevel, type Admin, type Message } from 'kafkajs';
import { guardScriptSource } from '../src/cache/guard-scripts.js';
import { RedisCacheWriter } from '../src/cache/redis-cache-writer.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../src/codec/cache-change.js';
import { AvroCodec } from '../src/codec/codec.js';
import { encodeFrame } from '../src/codec/framing.js';
import { SchemaRegistryClient } from '../src/codec/registry-client.js';
import { startKafkaMock, startRedis } from '../src/local-servers/index.js';
import { freePort } from '../src/local-servers/process.js';
import { outboxSubject, outboxTopic, type OutboxEvent } from '../src/outbox/event.js';
import { mapEvent } from '../src/sink/mapping.js';
import { parseOutboxRecord } from '../src/sink/record.js';
import { startSchemaRegistryDouble } from '../test/registry-double/schema-registry-double.js';

const run = promisify(execFile);
const RECORDS = Number(process.env.BENCH_SINK_RECORDS ?? 200_000);
const KEYS = 50_000;
const HOT_KEYS = 1_000;
const VALUE_SIZE = 64;
/**
 * Node/V8 flags of the sink process: the heap limit the README recommends for the sink (its live
 * heap stays under ~60 MB with the default fetch and batch sizes; without a limit V8 grows the heap
 * lazily). BENCH_SINK_NODE_FLAGS overrides them (empty: none).
 */
/** Rounds of sink vs redis-benchmark; the naive sink (slow) runs once. Medians are reported. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const SINK_NODE_FLAGS = (process.env.BENCH_SINK_NODE_FLAGS ?? '--max-old-space-size=128').split(' ').filter(Boolean);
/** Aggregate types, one topic each: the mock cluster keeps only ~5 MB per partition (4 per topic). */
const TYPES = ['bench_user', 'bench_order', 'bench_product', 'bench_account'];
const value = Buffer.alloc(VALUE_SIZE, 'v');

/** Debezium-shaped records per topic: half the events on a hot set, versions increasing per key. */
function makeRecords(schemaId: number): Map<string, Message[]> {
  const type = avro.Type.forSchema(CACHE_CHANGE_SCHEMA_V1 as avro.Schema);
  const versions = new Map<number, number>();
  const out = new Map<string, Message[]>(TYPES.map((t) => [outboxTopic(t), []]));
  for (let i = 0; i < RECORDS; i++) {
    const k = Math.random() < 0.5 ? Math.floor(Math.random() * HOT_KEYS) : Math.floor(Math.random() * KEYS);
    const version = (versions.get(k) ?? 0) + 1;
    versions.set(k, version);
    const id = `u${k}`;
    const entity = TYPES[k % TYPES.length]!;
    const occurredAt = Date.now();
    const payload = encodeFrame(schemaId, type.toBuffer({ entity, id, version, operation: 'UPSERT', value, extraKeys: [], occurredAt }));
    out.get(outboxTopic(entity))!.push({
      key: Buffer.from(id), value: payload, timestamp: String(occurredAt),
      headers: { id: Buffer.from(crypto.randomUUID()), type: Buffer.from('UserChanged'), version: Buffer.from(String(version)) },
    });
  }
  return out;
}

async function redisBenchmark(port: number, sha: string): Promise<number> {
  const { stdout } = await run('redis-benchmark', [
    '-p', String(port), '-P', '64', '-n', String(RECORDS), '-r', String(KEYS), '--csv',
    'EVALSHA', sha, '1', `${TYPES[0]}:u__rand_int__`, '1__rand_int__', '3600000', value.toString('latin1'),
  ], { maxBuffer: 16 * 1024 * 1024 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const rps = Number(line.split(',')[1]?.replaceAll('"', ''));
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`cannot parse redis-benchmark output: ${line.slice(0, 200)}`);
  return rps;
}

function passThrough(prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith(prefix) && e[1] !== undefined));
}

/**
 * Runs `outbox-cache sink` as a child until its group has committed every record (so every record
 * was applied); events/s between the first and the last commit seen, and peak RSS. Progress is
 * read from the group's committed offsets, not the sink's /metrics, so measuring costs the sink
 * nothing.
 */
async function runSink(admin: Admin, topics: string[], env: Record<string, string>): Promise<{ rate: number; rssMb: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...SINK_NODE_FLAGS, 'dist/cli/main.js', 'sink'], {
    // SINK_*, KAFKA_FETCH_* and KAFKA_RECORD_* variables of the bench's environment reach the sink, to try other settings.
    env: { PATH: process.env.PATH ?? '', ...passThrough('SINK_'), ...passThrough('KAFKA_FETCH_'), ...passThrough('KAFKA_RECORD_'), ...env, METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_SINK_LOG ?? 'warn' },
    stdio: ['ignore', process.env.BENCH_SINK_LOG ? 'inherit' : 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const committed = async (): Promise<number> => {
      const offsets = await admin.fetchOffsets({ groupId: env.KAFKA_GROUP_ID!, topics });
      return offsets.flatMap((t) => t.partitions).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    };
    let first: { at: number; count: number } | undefined;
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`sink exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`sink did not finish in time: committed ${await committed()} of ${RECORDS}`);
      const count = await committed();
      const now = performance.now();
      if (!first && count > 0) first = { at: now, count };
      if (first && count >= RECORDS) {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const hwmKb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
        return { rate: (count - first.count) / ((now - first.at) / 1000), rssMb: hwmKb / 1024 };
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** The naive sink: one awaited Redis call per record, in kafkajs eachMessage. */
async function runNaive(kafka: Kafka, topics: string[], registryUrl: string, redis: Redis): Promise<number> {
  const codec = new AvroCodec({ registry: new SchemaRegistryClient({ url: registryUrl }) });
  const writer = new RedisCacheWriter({ redis });
  const consumer = kafka.consumer({ groupId: `naive-${Date.now()}`, maxWaitTimeInMs: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  let count = 0;
  let firstAt = 0;
  let resolveDone: (ms: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  await consumer.run({
    partitionsConsumedConcurrently: 1,
    eachMessage: async ({ topic: t, message }) => {
      if (count === 0) firstAt = performance.now();
      const parsed = parseOutboxRecord(t, message);
      if (parsed.kind === 'event') {
        const event: OutboxEvent = parsed.event;
        const decoded = await codec.decode(event.payload, { subject: outboxSubject(event.aggregateType) });
        for (const action of mapEvent(event, decoded)) await writer.applyBatch([action]);
      }
      if (++count === RECORDS) resolveDone(performance.now());
    },
  });
  const endAt = await done;
  await consumer.disconnect();
  return (RECORDS - 1) / ((endAt - firstAt) / 1000);
}

async function main(): Promise<void> {
  console.log('building dist/ (npm run build) to run the sink as deployed');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const [redisServer, cluster, registry] = await Promise.all([startRedis(), startKafkaMock({ brokers: 3 }), startSchemaRegistryDouble()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  try {
    const topics = TYPES.map(outboxTopic);
    // The double gives an identical schema the same id under every subject, like a real registry.
    const schemaId = TYPES.map((t) => registry.store.register(outboxSubject(t), JSON.stringify(CACHE_CHANGE_SCHEMA_V1)))[0]!;
    const kafka = new Kafka({ clientId: 'bench-sink', brokers: cluster.brokers, logLevel: logLevel.ERROR });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    let started = performance.now();
    // librdkafka's mock cluster answers a fetch with whole stored record batches, where a real
    // broker fills a fetch from many small ones up to the consumer's limits (1 MiB per partition
    // by default): 5,000-record sends store ~250 KiB per partition batch, so a fetch holds about
    // what a real broker's would.
    for (const [topic, records] of makeRecords(schemaId)) {
      for (let i = 0; i < records.length; i += 5000) await producer.send({ topic, acks: -1, messages: records.slice(i, i + 5000) });
    }
    await producer.disconnect();
    console.log(`pre-filled ${RECORDS} records over ${KEYS} keys (${HOT_KEYS} hot) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const sha = String(await redis.script('LOAD', guardScriptSource('upsertEntry')));
    const admin = kafka.admin();
    await admin.connect();
    const sinkRates: number[] = [];
    const evalshaRates: number[] = [];
    let peakRssMb = 0;
    // Each round replays the same topics under a new consumer group, next to a redis-benchmark run
    // in the same round; the order alternates so a slow spell on a shared machine hits both sides.
    for (let round = 1; round <= ROUNDS; round++) {
      const runEvalsha = async (): Promise<void> => {
        await redis.flushall();
        const rate = await redisBenchmark(redisServer.port, sha);
        evalshaRates.push(rate);
        console.log(`round ${round}: redis-benchmark EVALSHA upsert -P 64: ${Math.round(rate)} ops/s`);
      };
      const runOneSink = async (): Promise<void> => {
        await redis.flushall();
        const at = performance.now();
        const sink = await runSink(admin, topics, {
          KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_TOPICS: topics.join(','), KAFKA_GROUP_ID: `sink-${round}-${Date.now()}`,
          SCHEMA_REGISTRY_URL: registry.url, REDIS_URL: redisServer.url, DLQ_TOPIC: 'bench-dlq', CACHE_KEY_PREFIX: '',
        });
        sinkRates.push(sink.rate);
        peakRssMb = Math.max(peakRssMb, sink.rssMb);
        console.log(`round ${round}: sink (node ${[...SINK_NODE_FLAGS, 'dist/cli/main.js'].join(' ')} sink): ${Math.round(sink.rate)} events/s, peak RSS ${sink.rssMb.toFixed(0)} MB (run ${((performance.now() - at) / 1000).toFixed(1)} s)`);
      };
      for (const step of round % 2 === 1 ? [runEvalsha, runOneSink] : [runOneSink, runEvalsha]) await step();
    }
    await admin.disconnect();
    await redis.flushall();
    const sinkRate = median(sinkRates);
    const evalsha = median(evalshaRates);

    started = performance.now();
    // For trying sink settings quickly (SINK_*, KAFKA_FETCH_*, BENCH_SINK_NODE_FLAGS).
    if (process.env.BENCH_SINK_ONLY) return;
    const naive = await runNaive(kafka, topics, registry.url, redis);
    console.log(`naive sink: ${Math.round(naive)} events/s (run ${((performance.now() - started) / 1000).toFixed(1)} s)`);

    console.log(JSON.stringify({
      bench: 'sink',
      events_per_s: Math.round(sinkRate),
      naive_events_per_s: Math.round(naive),
      redis_benchmark_evalsha_per_s: Math.round(evalsha),
      vs_naive: Number((sinkRate / naive).toFixed(2)),
      vs_redis: Number((sinkRate / evalsha).toFixed(2)),
      peak_rss_mb: Number(peakRssMb.toFixed(1)),
    }));
  } finally {
    redis.disconnect();
    await Promise.allSettled([registry.close(), cluster.stop(), redisServer.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
