/**
 * The records captured from a real Debezium 2.7.4 (test/fixtures/debezium-2.7.4-outbox), replayed
 * byte for byte into a Kafka cluster of this file's own (the topic names are fixed by the capture)
 * and applied by the sink, audit clean: every outbox record is checked, none is inconsistent, the
 * heartbeats are not audited.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { startKafkaMock, type LocalKafkaMock } from '../../src/local-servers/index.js';
import { createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { fixtureSchemas, startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { debeziumProducer, startTestSink, total } from '../sink/harness.js';
import { scrape, startTestAuditor } from './audit-helpers.js';

interface Captured {
  topic: string; timestamp: number; key_hex: string; value_hex: string; headers: [string, string][];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/debezium-2.7.4-outbox/records.json', import.meta.url), 'utf8')) as {
  schemas: Record<string, { subject: string; version: number; schema: unknown }>; records: Captured[];
};

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

it('audits the captured records clean once the sink applied them', async () => {
  const kafka = new Kafka({ clientId: uniqueName('fixture'), brokers: cluster.brokers, logLevel: logLevel.ERROR });
  const producer = await debeziumProducer(kafka);
  for (const r of fixture.records) {
    await producer.send({
      topic: r.topic, acks: -1,
      messages: [{ key: Buffer.from(r.key_hex, 'hex'), value: Buffer.from(r.value_hex, 'hex'), timestamp: String(r.timestamp),
        headers: Object.fromEntries(r.headers.map(([name, hex]) => [name, Buffer.from(hex, 'hex')])) }],
    });
  }
  await producer.disconnect();
  const topics = [...new Set(fixture.records.map((r) => r.topic))];
  const outbox = fixture.records.filter((r) => r.topic.startsWith('outbox.event.')).length;
  expect(outbox).toBeGreaterThan(0);

  const keyPrefix = `${prefix}fx:`;
  const sink = await startTestSink({ kafka, redis, registryUrl: registry.url, topics, groupId: uniqueName('sink'), dlqTopic: uniqueName('dlq'), keyPrefix });
  try {
    await waitUntil('every captured record applied', async () => (await total(sink.metrics.consumed)) >= fixture.records.length);
  } finally {
    await sink.stop();
  }
  const auditor = await startTestAuditor({
    KAFKA_BROKERS: cluster.brokers.join(','), KAFKA_TOPICS: topics.join(','), SCHEMA_REGISTRY_URL: registry.url, CACHE_KEY_PREFIX: keyPrefix,
    AUDIT_DELAYS: '1s,10s',
  });
  try {
    await waitUntil('every outbox record checked', () => auditor.session.auditor.summary().delays.every((d) => d.checks === outbox));
    const summary = auditor.session.auditor.summary();
    expect(summary.delays.map((d) => [d.delay, d.checks, d.inconsistent])).toEqual([['1s', outbox, 0], ['10s', outbox, 0]]);
    expect(summary.events).toBe(outbox);
    expect(await scrape(auditor.port, 'outbox_audit_events_total{outcome="audited"}')).toBe(outbox);
    expect(await scrape(auditor.port, 'outbox_audit_events_total{outcome="unauditable"}')).toBe(0);
  } finally {
    await auditor.stop();
  }
});
