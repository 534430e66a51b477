/**
 * The sink end to end over the Kafka mock cluster, the registry double and the real Redis: final
 * state under interleaved versions and duplicates, offsets committed to the end, schema v1 and v2
 * in one topic, and a full replay that leaves Redis byte-identical.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Admin, Message, Producer } from 'kafkajs';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { createTestKafka, createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import {
  USER_CHANGED_V1, USER_CHANGED_V2, cacheState, committedOffsets, debeziumMessage, debeziumProducer, endOffsets, framed,
  produceAll, rawCache, startTestSink, total,
} from './harness.js';

const kafka = createTestKafka();
const { redis, prefix } = createTestRedis();
let registry: SchemaRegistryDouble;
let producer: Producer;
let admin: Admin;

beforeAll(async () => {
  registry = await startSchemaRegistryDouble();
  producer = await debeziumProducer(kafka);
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), registry?.close()]);
  redis.disconnect();
});

async function allCommitted(groupId: string, topic: string): Promise<boolean> {
  const [committed, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
  return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end);
}

it('applies many keys over several partitions with interleaved versions and duplicates: the highest version wins, then a replay changes no byte', async () => {
  const type = uniqueName('usr');
  const topic = outboxTopic(type);
  // Two unrelated record types under one subject (TopicNameStrategy) need compatibility NONE.
  registry.store.setLevel(outboxSubject(type), 'NONE');
  const domainId = registry.store.register(outboxSubject(type), JSON.stringify(USER_CHANGED_V1));
  const changeId = registry.store.register(outboxSubject(type), JSON.stringify(CACHE_CHANGE_SCHEMA_V1));
  const keys = 120;
  const versions = 8;
  const messages: Message[] = [];
  for (let v = 1; v <= versions; v++) {
    for (let k = 0; k < keys; k++) {
      // Even keys carry the standard cache-change event (write-through), odd keys a domain event (invalidate).
      const payload = k % 2 === 0
        ? framed(CACHE_CHANGE_SCHEMA_V1, changeId, {
            entity: type, id: `k${k}`, version: v, operation: 'UPSERT', value: Buffer.from(`k${k}@v${v}`), extraKeys: [], occurredAt: 1,
          })
        : framed(USER_CHANGED_V1, domainId, { id: k, name: `n${k}`, email: null, version: v });
      messages.push(debeziumMessage({ aggregateId: `k${k}`, version: v, payload }));
    }
  }
  // At-least-once delivery: a connector restart re-sends a run of already-delivered events.
  const duplicates = messages.slice(0, 300);
  await produceAll(producer, topic, [...messages, ...duplicates]);
  const partitions = await endOffsets(admin, topic);
  expect([...partitions.values()].filter((end) => end > 0n).length).toBeGreaterThan(1);

  const keyPrefix = `${prefix}a:`;
  const groupId = uniqueName('sink');
  const dlqTopic = uniqueName('dlq');
  const first = await startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId, dlqTopic, keyPrefix, chunkSize: 250 });
  try {
    await waitUntil('every record consumed and committed', async () =>
      (await total(first.metrics.consumed)) >= messages.length + duplicates.length && (await allCommitted(groupId, topic)), 45_000);
  } finally {
    await first.stop();
  }
  const state = await cacheState(redis, keyPrefix);
  expect(state.size).toBe(keys);
  for (let k = 0; k < keys; k++) {
    const stored = state.get(`${type}:k${k}`);
    expect(stored?.version, `k${k}`).toBe(BigInt(versions));
    if (k % 2 === 0) expect([stored?.state, stored?.data.toString()]).toEqual(['entry', `k${k}@v${versions}`]);
    else expect(stored?.state).toBe('tombstone');
  }
  expect(await total(first.metrics.deadLettered)).toBe(0);
  expect(await total(first.metrics.applied) + await total(first.metrics.staleSkipped)).toBe(messages.length + duplicates.length);
  // Duplicates in a later chunk than their key's newest version meet it in Redis: stale.
  expect(await total(first.metrics.staleSkipped)).toBeGreaterThan(0);

  // Replay of the whole topic from offset 0 under a new group: Redis stays byte-identical.
  const before = await rawCache(redis, keyPrefix);
  const replayGroup = uniqueName('replay');
  const replay = await startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId: replayGroup, dlqTopic, keyPrefix });
  try {
    await waitUntil('replay consumed', async () => (await total(replay.metrics.consumed)) >= messages.length + duplicates.length && (await allCommitted(replayGroup, topic)), 45_000);
  } finally {
    await replay.stop();
  }
  expect(await total(replay.metrics.applied)).toBe(0);
  expect(await rawCache(redis, keyPrefix)).toEqual(before);
});

it('applies records written with schema v1 and v2 of one subject in one topic', async () => {
  const type = uniqueName('usr');
  const topic = outboxTopic(type);
  const v1 = registry.store.register(outboxSubject(type), JSON.stringify(USER_CHANGED_V1));
  const v2 = registry.store.register(outboxSubject(type), JSON.stringify(USER_CHANGED_V2));
  expect(v2).not.toBe(v1);
  await produceAll(producer, topic, [
    debeziumMessage({ aggregateId: 'a', version: 1, payload: framed(USER_CHANGED_V1, v1, { id: 1, name: 'A', email: null, version: 1 }) }),
    debeziumMessage({ aggregateId: 'b', version: 1, payload: framed(USER_CHANGED_V2, v2, { id: 2, name: 'B', email: null, version: 1, country: 'FR' }) }),
    debeziumMessage({ aggregateId: 'a', version: 2, payload: framed(USER_CHANGED_V2, v2, { id: 1, name: 'A', email: 'a@x', version: 2, country: 'DE' }) }),
  ]);
  const keyPrefix = `${prefix}b:`;
  const groupId = uniqueName('sink');
  const sink = await startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId, dlqTopic: uniqueName('dlq'), keyPrefix });
  try {
    // a@1 counts as stale when a@2 supersedes it in the same batch.
    await waitUntil('both schema versions applied', async () =>
      (await total(sink.metrics.applied)) + (await total(sink.metrics.staleSkipped)) >= 3 && (await allCommitted(groupId, topic)));
  } finally {
    await sink.stop();
  }
  const state = await cacheState(redis, keyPrefix);
  expect([state.get(`${type}:a`)?.version, state.get(`${type}:b`)?.version]).toEqual([2n, 1n]);
  expect(await total(sink.metrics.deadLettered)).toBe(0);
});
