/**
 * Redis stopped mid-stream and restarted on the same port: while it is down the sink pauses,
 * reports not ready and commits nothing past what was applied; when it returns the sink resumes
 * and reaches the right state.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import type { Admin, Producer } from 'kafkajs';
import { startRedis, type LocalRedis } from '../../src/local-servers/index.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { createTestKafka, uniqueName, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import {
  USER_CHANGED_V1, cacheState, committedOffsets, debeziumMessage, debeziumProducer, endOffsets, framed, produceAll, startTestSink, total,
} from './harness.js';

const kafka = createTestKafka();
let server: LocalRedis | undefined;
let registry: SchemaRegistryDouble;
let producer: Producer;
let admin: Admin;
beforeAll(async () => {
  [server, registry, producer] = await Promise.all([startRedis(), startSchemaRegistryDouble(), debeziumProducer(kafka)]);
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), registry?.close(), server?.stop()]);
});

it('pauses while Redis is down, commits nothing unapplied, and resumes when it returns', async () => {
  const port = server!.port;
  // Reconnect quickly: the test waits for the sink to notice Redis is back.
  const redis = new Redis(server!.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100, lazyConnect: false });
  redis.on('error', () => {});
  const type = uniqueName('usr');
  const topic = outboxTopic(type);
  const schemaId = registry.store.register(outboxSubject(type), JSON.stringify(USER_CHANGED_V1));
  const batch = (version: number) => Array.from({ length: 40 }, (_, k) =>
    debeziumMessage({ aggregateId: `k${k}`, version, payload: framed(USER_CHANGED_V1, schemaId, { id: k, name: 'n', email: null, version }) }));
  await produceAll(producer, topic, batch(1));
  const groupId = uniqueName('sink');
  const sink = await startTestSink({ kafka, redis, registryUrl: registry.url, topics: [topic], groupId, dlqTopic: uniqueName('dlq'), keyPrefix: '' });
  const atVersion = async (version: bigint) => {
    const state = await cacheState(redis, `${type}:`);
    return state.size === 40 && [...state.values()].every((v) => v.version === version);
  };
  const committedAll = async () => {
    const [committed, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
    return [...ends].every(([p, end]) => end === 0n || committed.get(p) === end);
  };
  try {
    await waitUntil('first batch applied and committed', async () => (await atVersion(1n)) && (await committedAll()));
    await waitUntil('ready', () => sink.sink.ready());
    const committedBefore = await committedOffsets(admin, groupId, topic);

    await server!.stop();
    server = undefined;
    await produceAll(producer, topic, [...batch(2), ...batch(3)]);
    await waitUntil('the sink retrying against the stopped Redis', async () => (await total(sink.metrics.retries)) >= 3);
    expect(sink.sink.ready()).toBe(false);
    expect(await committedOffsets(admin, groupId, topic)).toEqual(committedBefore);
    expect(await total(sink.metrics.applied)).toBe(40);

    server = await startRedis({ port });
    await waitUntil('the sink resumed: newest versions applied and committed', async () => (await atVersion(3n)) && (await committedAll()), 30_000);
    await waitUntil('ready again', () => sink.sink.ready());
    expect(await total(sink.metrics.deadLettered)).toBe(0);
  } finally {
    await sink.stop();
    redis.disconnect();
  }
});
