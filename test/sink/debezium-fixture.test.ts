/**
 * The records captured from a real Debezium 2.7.4 (test/fixtures/debezium-2.7.4-outbox),
 * replayed byte for byte into a Kafka cluster of this file's own (the topic name is fixed by the
 * capture), with the registry double serving the capture's schema ids: the outbox records apply,
 * the heartbeat records are ignored.
 */
import { readDebeziumRecords } from '../fixtures/debezium.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel, type Message } from 'kafkajs';
import { startKafkaMock, type LocalKafkaMock } from '../../src/local-servers/index.js';
import { createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { fixtureSchemas, startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { cacheState, debeziumProducer, startTestSink, total } from './harness.js';

interface Captured {
  topic: string; timestamp: number; key_hex: string; value_hex: string; headers: [string, string][]; scenario: string;
}
const fixture = readDebeziumRecords<{ schemas: Record<string, { subject: string; version: number; schema: unknown }>; records: Captured[] }>();

const { redis, prefix } = createTestRedis();
let cluster: LocalKafkaMock;
let registry: SchemaRegistryDouble;
beforeAll(async () => {
  [cluster, registry] = await Promise.all([startKafkaMock({ brokers: 1 }), startSchemaRegistryDouble({ preload: fixtureSchemas(fixture) })]);
});
afterAll(async () => {
  await Promise.allSettled([registry?.close(), cluster?.stop()]);
  redis.disconnect();
});

it('applies the captured outbox records and ignores the captured heartbeats', async () => {
  const kafka = new Kafka({ clientId: uniqueName('fixture'), brokers: cluster.brokers, logLevel: logLevel.ERROR });
  const producer = await debeziumProducer(kafka);
  for (const r of fixture.records) {
    const message: Message = {
      key: Buffer.from(r.key_hex, 'hex'),
      value: Buffer.from(r.value_hex, 'hex'),
      timestamp: String(r.timestamp),
      // Insertion order is wire order: id, type, version.
      headers: Object.fromEntries(r.headers.map(([name, hex]) => [name, Buffer.from(hex, 'hex')])),
    };
    await producer.send({ topic: r.topic, acks: -1, messages: [message] });
  }
  await producer.disconnect();

  const topics = [...new Set(fixture.records.map((r) => r.topic))];
  const heartbeats = fixture.records.filter((r) => r.topic.startsWith('__debezium-heartbeat.')).length;
  expect(heartbeats).toBeGreaterThan(0);
  const keyPrefix = `${prefix}fx:`;
  const sink = await startTestSink({
    kafka, redis, registryUrl: registry.url, topics, groupId: uniqueName('sink'), dlqTopic: uniqueName('dlq'), keyPrefix,
  });
  try {
    await waitUntil('every captured record consumed', async () => (await total(sink.metrics.consumed)) >= fixture.records.length);
  } finally {
    await sink.stop();
  }
  expect(await total(sink.metrics.ignored)).toBe(heartbeats);
  expect(await total(sink.metrics.deadLettered)).toBe(0);
  const state = await cacheState(redis, keyPrefix);
  // Users 1 and 2 each reached version 2 (scenarios 4a, 4b, 4e): the default mapping leaves tombstones.
  expect([...state].map(([key, v]) => [key, v.state, v.version]).sort()).toEqual([
    ['user:1', 'tombstone', 2n],
    ['user:2', 'tombstone', 2n],
  ]);
});
