/**
 * `dlq list` and `dlq replay` against the real (mock) Kafka and a running sink: poison records
 * whose cause is then fixed (their schema registered afterwards) are replayed and applied; a
 * replay into a topic the sink does not consume is refused whole.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { dlqListCommand } from '../../src/cli/commands/dlq-list.js';
import { dlqReplayCommand } from '../../src/cli/commands/dlq-replay.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { createTestKafka, createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { USER_CHANGED_V1, USER_CHANGED_V2, cacheState, debeziumMessage, debeziumProducer, endOffsets, framed, startTestSink, total, type TestSink } from '../sink/harness.js';
import { runCli } from './run-cli.js';

const kafka = createTestKafka();
const { redis, prefix } = createTestRedis();
let registry: SchemaRegistryDouble;
let sink: TestSink | undefined;
beforeAll(async () => {
  registry = await startSchemaRegistryDouble();
});
afterAll(async () => {
  await sink?.stop();
  await registry?.close();
  redis.disconnect();
});

it('lists dead letters by code and replays the fixed ones, which the sink then applies', async () => {
  const type = uniqueName('usr');
  const topic = outboxTopic(type);
  const subject = outboxSubject(type);
  const knownId = registry.store.register(subject, JSON.stringify(USER_CHANGED_V1));
  // Written with a schema id the registry does not know yet (registered after the sink saw it).
  const lateId = 70_000 + Math.floor(Math.random() * 10_000);
  const user = (version: number, name: string) => framed(USER_CHANGED_V1, knownId, { id: 1, name, email: null, version });
  // Version 2 of the schema: the writer used it before it reached this registry.
  const userV2 = (version: number, name: string) => framed(USER_CHANGED_V2, lateId, { id: 1, name, email: null, version, country: 'NL' });
  const producer = await debeziumProducer(kafka);
  await producer.send({
    topic, acks: -1, messages: [
      debeziumMessage({ aggregateId: 'a', version: 1, payload: user(1, 'one') }),
      debeziumMessage({ aggregateId: 'a', version: 2, payload: userV2(2, 'two'), occurredAtMs: 1_700_000_000_000 }),
      debeziumMessage({ aggregateId: 'b', version: 1, payload: Buffer.from([7, 7, 7, 7, 7, 7]) }),
      debeziumMessage({ aggregateId: 'c', version: 4, payload: userV2(4, 'four') }),
    ],
  });
  await producer.disconnect();

  const dlqTopic = uniqueName('dlq');
  const keyPrefix = `${prefix}d:`;
  sink = await startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId: uniqueName('sink'), dlqTopic, keyPrefix });
  const metrics = sink.metrics;
  await waitUntil('three dead letters', async () => (await total(metrics.deadLettered)) === 3);
  await waitUntil('a at 1', async () => (await cacheState(redis, keyPrefix)).get(`${type}:a`)?.version === 1n);
  const env = { KAFKA_BROKERS: inject('kafkaBrokers').join(','), DLQ_TOPIC: dlqTopic };

  const list = await runCli(dlqListCommand, [], env);
  expect(list.code, list.stderr).toBe(0);
  expect(list.stdout).toContain(`3 dead letters in ${dlqTopic}`);
  expect(list.stdout).toMatch(/SCHEMA_UNKNOWN_ID: 2\n/);
  expect(list.stdout).toMatch(/DECODE_BAD_MAGIC: 1\n/);
  expect(list.stdout).toMatch(new RegExp(`from ${topic.replace(/\./g, '\\.')} \\d+:1 key "a"`));
  const json = (await runCli(dlqListCommand, ['--json'], env)).stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string; code: string; original: { offset: string } });
  expect(json.map((l) => `${l.key}:${l.code}`).sort()).toEqual(['a:SCHEMA_UNKNOWN_ID', 'b:DECODE_BAD_MAGIC', 'c:SCHEMA_UNKNOWN_ID']);
  expect(json.find((l) => l.key === 'a')?.original.offset).toBe('1');

  // Refused whole: the sink (by these settings) does not consume the record's topic.
  const endsBefore = await topicEnd(topic);
  const refused = await runCli(dlqReplayCommand, ['--code', 'SCHEMA_UNKNOWN_ID', '--topics', 'outbox.event.somethingelse'], env);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain(`${topic} is not in the sink's topics`);
  expect(refused.stderr).toContain('DLQ_REPLAY_REFUSED');
  expect(await topicEnd(topic)).toBe(endsBefore);

  // The cause is fixed: the schema is registered under the id the records carry.
  registry.store.preload({ id: lateId, subject, schema: USER_CHANGED_V2 });
  const dry = await runCli(dlqReplayCommand, ['--code', 'SCHEMA_UNKNOWN_ID', '--dry-run'], env);
  expect(dry.stdout).toContain('would replay 2 records');
  expect(await topicEnd(topic)).toBe(endsBefore);
  const replay = await runCli(dlqReplayCommand, ['--code', 'SCHEMA_UNKNOWN_ID', '--topics', topic], env);
  expect(replay.code, replay.stderr).toBe(0);
  expect(replay.stdout).toContain('replayed 2 records');
  await waitUntil('the replayed records applied', async () => {
    const state = await cacheState(redis, keyPrefix);
    return state.get(`${type}:a`)?.version === 2n && state.get(`${type}:c`)?.version === 4n;
  });
  expect(await total(metrics.deadLettered)).toBe(3);

  // The replayed record is the original: same key, value, timestamp; headers id, type, version only.
  const copies = (await readAll(topic, endsBefore + 2n)).filter((m) => m.key?.toString() === 'a' && m.headers?.version?.toString() === '2');
  expect(copies).toHaveLength(2);
  for (const copy of copies) {
    expect(copy.timestamp).toBe('1700000000000');
    expect(Buffer.compare(copy.value!, userV2(2, 'two'))).toBe(0);
    expect(Object.keys(copy.headers ?? {})).toEqual(['id', 'type', 'version']);
  }
  expect(copies[1]!.headers?.id?.toString()).toBe(copies[0]!.headers?.id?.toString());
}, 180_000);

it('reports every usage problem at once with exit 2', async () => {
  const run = await runCli(dlqReplayCommand, ['--offsets', '9-3'], {});
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('KAFKA_BROKERS');
  expect(run.stderr).toContain('--offsets');
  const stray = await runCli(dlqListCommand, ['extra', '--limit', 'x'], { KAFKA_BROKERS: 'localhost:1' });
  expect(stray.code).toBe(2);
  expect(stray.stderr).toMatch(/arguments[\s\S]*--limit/);
});

async function topicEnd(topic: string): Promise<bigint> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return [...(await endOffsets(admin, topic)).values()].reduce((a, b) => a + b, 0n);
  } finally {
    await admin.disconnect();
  }
}

/** Every record of `topic`, once `count` have been read. */
async function readAll(topic: string, count: bigint): Promise<KafkaMessage[]> {
  const seen: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('check') });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
  try {
    await waitUntil('every record read', () => BigInt(seen.length) >= count);
  } finally {
    await consumer.disconnect();
  }
  return seen.sort((x, y) => Number(BigInt(x.offset) - BigInt(y.offset)));
}
