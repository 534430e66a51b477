/**
 * Benchmark of `outbox-cache sink`: a topic pre-filled with Debezium-shaped records (standard
 * cache-change UPSERT events, Confluent-framed Avro, headers id/type/version, key = aggregateid)
 * over many keys with a hot set, consumed in one run by
 *   - the sink itself, as a child process (`outbox-cache sink`), whose peak RSS is read from /proc;
 *   - a naive sink: kafkajs eachMessage, same decode and mapping, one awaited Redis call per record,
 *     no coalescing;
 * and, on the same Redis, redis-benchmark's pipelined EVALSHA (-P 64) of the single-key guard
 * upsert script with the same value size. Starts its own Redis, Kafka mock cluster and Schema
 * Registry double. Last line:
 * {"bench":"sink","events_per_s":…,"naive_events_per_s":…,"redis_benchmark_evalsha_per_s":…,"vs_naive":…,"vs_redis":…,"peak_rss_mb":…}
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import avro from 'avsc';
import { Redis } from 'ioredis';
import { Kafka, Partitioners, logLevel, type Message } from 'kafkajs';
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

/** Runs `outbox-cache sink` as a child until it consumed every record; events/s and peak RSS. */
async function runSink(env: Record<string, string>): Promise<{ rate: number; rssMb: number }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sink'], {
    // SINK_* and KAFKA_FETCH_* variables of the bench's environment reach the sink, to try other settings.
    env: { PATH: process.env.PATH ?? '', ...passThrough('SINK_'), ...passThrough('KAFKA_FETCH_'), ...env, METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1', LOG_LEVEL: process.env.BENCH_SINK_LOG ?? 'warn' },
    stdio: ['ignore', process.env.BENCH_SINK_LOG ? 'inherit' : 'ignore', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const consumed = async (): Promise<number> => {
      try {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        return [...text.matchAll(/^outbox_sink_records_consumed_total\{[^}]*\} (\d+)/gm)].reduce((s, m) => s + Number(m[1]), 0);
      } catch {
        return 0;
      }
    };
    let first: { at: number; count: number } | undefined;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`sink exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`sink did not finish in time: consumed ${await consumed()} of ${RECORDS}`);
      const count = await consumed();
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
  const [redisServer, cluster, registry] = await Promise.all([startRedis(), startKafkaMock({ brokers: 1 }), startSchemaRegistryDouble()]);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  try {
    const topics = TYPES.map(outboxTopic);
    // The double gives an identical schema the same id under every subject, like a real registry.
    const schemaId = TYPES.map((t) => registry.store.register(outboxSubject(t), JSON.stringify(CACHE_CHANGE_SCHEMA_V1)))[0]!;
    const kafka = new Kafka({ clientId: 'bench-sink', brokers: cluster.brokers, logLevel: logLevel.ERROR });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    let started = performance.now();
    // librdkafka's mock cluster answers a fetch with one stored record batch, where a real broker
    // fills the fetch (up to 1 MB per partition): produce large batches so fetches look real.
    for (const [topic, records] of makeRecords(schemaId)) {
      for (let i = 0; i < records.length; i += 20_000) await producer.send({ topic, acks: -1, messages: records.slice(i, i + 20_000) });
    }
    await producer.disconnect();
    console.log(`pre-filled ${RECORDS} records over ${KEYS} keys (${HOT_KEYS} hot) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const sha = String(await redis.script('LOAD', guardScriptSource('upsertEntry')));
    const evalsha = await redisBenchmark(redisServer.port, sha);
    console.log(`redis-benchmark EVALSHA upsert -P 64: ${Math.round(evalsha)} ops/s`);
    await redis.flushall();

    started = performance.now();
    const sink = await runSink({
      KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_TOPICS: topics.join(','), KAFKA_GROUP_ID: `sink-${Date.now()}`,
      SCHEMA_REGISTRY_URL: registry.url, REDIS_URL: redisServer.url, DLQ_TOPIC: 'bench-dlq', CACHE_KEY_PREFIX: '',
    });
    console.log(`sink: ${Math.round(sink.rate)} events/s, peak RSS ${sink.rssMb.toFixed(0)} MB (run ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    await redis.flushall();

    started = performance.now();
    const naive = await runNaive(kafka, topics, registry.url, redis);
    console.log(`naive sink: ${Math.round(naive)} events/s (run ${((performance.now() - started) / 1000).toFixed(1)} s)`);

    console.log(JSON.stringify({
      bench: 'sink',
      events_per_s: Math.round(sink.rate),
      naive_events_per_s: Math.round(naive),
      redis_benchmark_evalsha_per_s: Math.round(evalsha),
      vs_naive: Number((sink.rate / naive).toFixed(2)),
      vs_redis: Number((sink.rate / evalsha).toFixed(2)),
      peak_rss_mb: Number(sink.rssMb.toFixed(1)),
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
