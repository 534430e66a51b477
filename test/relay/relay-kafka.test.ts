/**
 * Kafka mode: a real MariaDB commit goes through the relay to librdkafka's mock cluster and comes
 * out byte for byte as Debezium 2.7.4's EventRouter produced the captured fixture records.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaJSConnectionError, KafkaJSProtocolError, Partitioners, type KafkaMessage, type Producer } from 'kafkajs';
import { createKafkaApply, createOutboxProducer, toOutboxRecord } from '../../src/relay/index.js';
import { createTestKafka, uniqueName, uniqueSuffix, waitUntil, type TestDatabase } from '../helpers.js';
import { createOutboxDatabase, insertOutboxRow, startTestRelay } from './relay-helpers.js';

interface FixtureRecord {
  topic: string;
  timestamp: number;
  key_hex: string;
  value_hex: string;
  headers: [string, string][];
  scenario: string;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/debezium-2.7.4-outbox/records.json', import.meta.url), 'utf8')) as { records: FixtureRecord[] };
const outboxRecords = fixture.records.filter((r) => r.topic.startsWith('outbox.event.'));
const header = (r: FixtureRecord, name: string) => Buffer.from(r.headers.find(([n]) => n === name)?.[1] ?? '', 'hex').toString('utf8');
const datetime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 23);

let db: TestDatabase;
const kafka = createTestKafka();
let producer: Producer;
beforeAll(async () => {
  db = await createOutboxDatabase('relay_kafka');
  producer = createOutboxProducer(kafka);
  await producer.connect();
});
afterAll(async () => {
  await producer?.disconnect();
  await db?.drop();
});

describe('relay in Kafka mode', () => {
  it('produces what Debezium\'s EventRouter produced for the same rows: key, value, headers in order, timestamp, partition', async () => {
    const aggregateType = `user_${uniqueSuffix()}`;
    const topic = `outbox.event.${aggregateType}`;
    const { stop } = await startTestRelay(db, { apply: createKafkaApply(producer), relayName: 'kafka' });
    try {
      const row = (r: FixtureRecord) => ({
        id: header(r, 'id'), aggregateType, aggregateId: Buffer.from(r.key_hex, 'hex').toString('utf8'), type: header(r, 'type'),
        version: BigInt(header(r, 'version')), occurredAt: datetime(r.timestamp), payload: Buffer.from(r.value_hex, 'hex'),
      });
      const [single, twoA, twoB, kept] = outboxRecords as [FixtureRecord, FixtureRecord, FixtureRecord, FixtureRecord];
      const conn = await db.pool.getConnection();
      // 4a: one event, inserted and deleted in its transaction.
      await conn.beginTransaction();
      await insertOutboxRow(conn, row(single));
      await conn.query('DELETE FROM outbox WHERE id = ?', [header(single, 'id')]);
      await conn.commit();
      // 4b: two events for two aggregates in one transaction.
      await conn.beginTransaction();
      for (const r of [twoA, twoB]) await insertOutboxRow(conn, row(r));
      await conn.query('DELETE FROM outbox WHERE id IN (?, ?)', [header(twoA, 'id'), header(twoB, 'id')]);
      await conn.commit();
      // 4e: a kept row, later updated and deleted (neither produces a record).
      await insertOutboxRow(conn, row(kept));
      await conn.query('UPDATE outbox SET type = ? WHERE id = ?', ['Other', header(kept, 'id')]);
      await conn.query('DELETE FROM outbox WHERE id = ?', [header(kept, 'id')]);
      conn.release();

      const received: { partition: number; message: KafkaMessage }[] = [];
      // A short fetch wait: the mock cluster answers fetches only when it expires.
      const consumer = kafka.consumer({ groupId: uniqueName('relay-kafka'), maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void received.push({ partition, message }) });
      try {
        await waitUntil('four records', () => received.length >= 4);
        // Eventually-consistent check that nothing more arrives: a fifth record would be a defect.
        const marker = await insertOutboxRow(db.pool, { aggregateType, aggregateId: 'marker', version: 1 });
        await waitUntil('marker', () => received.some((r) => r.message.headers?.id?.toString() === marker));
      } finally {
        await consumer.disconnect();
      }

      const partitioner = Partitioners.DefaultPartitioner();
      const partitionMetadata = [0, 1, 2, 3].map((partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      const byId = new Map(received.map((r) => [r.message.headers?.id?.toString(), r]));
      expect(received).toHaveLength(5);
      for (const expected of outboxRecords) {
        const got = byId.get(header(expected, 'id'));
        expect(got, expected.scenario).toBeDefined();
        const message = got!.message;
        expect(message.key?.toString('hex')).toBe(expected.key_hex);
        expect(message.value?.toString('hex')).toBe(expected.value_hex);
        expect(Number(message.timestamp)).toBe(expected.timestamp);
        const headers = Object.entries(message.headers ?? {}).map(([name, value]) => [name, (value as Buffer).toString('hex')]);
        expect(headers).toEqual(expected.headers);
        const key = Buffer.from(expected.key_hex, 'hex');
        expect(got!.partition).toBe(partitioner({ topic, partitionMetadata, message: { key, value: null } }));
      }
      // Per key, records are in commit order.
      const versionsOfKey2 = received.filter((r) => r.message.key?.toString() === '2').map((r) => r.message.headers?.version?.toString());
      expect(versionsOfKey2).toEqual(['1', '2']);
    } finally {
      await stop();
    }
  });

  it('builds records from events without touching the payload', () => {
    const payload = Buffer.from([0, 0, 0, 0, 6, 0xff]);
    const { topic, message } = toOutboxRecord({
      id: 'x', aggregateType: 'order', aggregateId: 'é', type: 'Typé', version: 2n ** 63n - 1n, occurredAtMs: 1_700_000_000_123, payload,
    });
    expect(topic).toBe('outbox.event.order');
    expect(message.value).toBe(payload);
    expect(message.key).toEqual(Buffer.from('é', 'utf8'));
    expect(Object.keys(message.headers ?? {})).toEqual(['id', 'type', 'version']);
    expect(message.headers?.version).toEqual(Buffer.from('9223372036854775807'));
    expect(message.headers?.type).toEqual(Buffer.from('Typé', 'utf8'));
    expect(message.timestamp).toBe('1700000000123');
  });

  it('reports broker outages as retriable and refusals as permanent', async () => {
    const failing = (err: Error) => ({ sendBatch: async () => { throw err; } }) as unknown as Producer;
    const events = [{ id: 'x', aggregateType: 'a', aggregateId: '1', type: 'T', version: 1n, occurredAtMs: 0, payload: Buffer.alloc(1) }];
    await expect(createKafkaApply(failing(new KafkaJSConnectionError('down')))(events))
      .rejects.toMatchObject({ retriable: true, code: 'RELAY_KAFKA_UNAVAILABLE' });
    const tooLarge = new KafkaJSProtocolError({ message: 'too large', type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false } as never);
    await expect(createKafkaApply(failing(tooLarge))(events))
      .rejects.toMatchObject({ retriable: false, code: 'RELAY_KAFKA_MESSAGE_TOO_LARGE' });
  });

  it('splits a batch into produce requests under the byte budget, all delivered in commit order', async () => {
    const aggregateType = `big_${uniqueSuffix()}`;
    const topic = `outbox.event.${aggregateType}`;
    const requests: number[] = [];
    // The real producer sends every request; the wrapper only measures them.
    const measured = { sendBatch: (batch: Parameters<Producer['sendBatch']>[0]) => {
      requests.push((batch.topicMessages ?? []).reduce((n, t) => n + t.messages.reduce((m, msg) => m + ((msg.value as Buffer)?.length ?? 0), 0), 0));
      return producer.sendBatch(batch);
    } } as unknown as Producer;
    const events = Array.from({ length: 24 }, (_, i) => ({
      id: `big-${i}`, aggregateType, aggregateId: 'same-key', type: 'T', version: BigInt(i + 1), occurredAtMs: 0, payload: Buffer.alloc(100_000, i),
    }));
    await createKafkaApply(measured, { maxRequestBytes: 500_000 })(events);
    expect(requests.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...requests)).toBeLessThanOrEqual(500_000);
    const received: string[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('relay-kafka-big'), maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(message.headers?.version?.toString() ?? '') });
    try {
      await waitUntil('every record', () => received.length >= events.length);
    } finally {
      await consumer.disconnect();
    }
    expect(received).toEqual(events.map((e) => String(e.version)));
  });

  it('halves a request the broker refuses as too large, and stops only on a single record too large', async () => {
    const sent: string[][] = [];
    // Stands in for a broker whose topic allows 3 records per request (a refusal no estimate foresaw).
    const strict = { sendBatch: async (batch: Parameters<Producer['sendBatch']>[0]) => {
      const ids = (batch.topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.headers?.id)));
      if (ids.length > 3 || ids.includes('huge')) {
        throw new KafkaJSProtocolError({ message: 'too large', type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false } as never);
      }
      sent.push(ids);
    } } as unknown as Producer;
    const event = (id: string) => ({ id, aggregateType: 'a', aggregateId: '1', type: 'T', version: 1n, occurredAtMs: 0, payload: Buffer.alloc(10) });
    await createKafkaApply(strict)(['1', '2', '3', '4', '5', '6', '7', '8'].map(event));
    expect(sent.flat()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect(Math.max(...sent.map((r) => r.length))).toBeLessThanOrEqual(3);
    await expect(createKafkaApply(strict)([event('x'), event('huge')]))
      .rejects.toMatchObject({ retriable: false, code: 'RELAY_KAFKA_MESSAGE_TOO_LARGE', message: expect.stringContaining('event huge') });
  });
});
