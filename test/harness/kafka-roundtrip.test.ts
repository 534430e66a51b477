import { afterAll, expect, it } from 'vitest';
import { Partitioners, type IHeaders, type KafkaMessage } from 'kafkajs';
import { createTestKafka, uniqueName, waitUntil } from '../helpers.js';

const kafka = createTestKafka();
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
const consumer = kafka.consumer({ groupId: uniqueName('harness-group') });
afterAll(async () => {
  await producer.disconnect();
  await consumer.disconnect();
});

it('round-trips records through a consumer group with keys, headers and partitions intact', async () => {
  const topic = uniqueName('outbox.event.harness');
  await producer.connect();
  const sent = Array.from({ length: 40 }, (_, i) => ({
    key: `key-${i % 7}`,
    value: Buffer.from([0, 0, 0, 0, 1, i]),
    headers: { id: `id-${i}`, type: 'HarnessEvent', version: String(i + 1) } as IHeaders,
  }));
  // One record with a repeated header, as Kafka allows and kafkajs exposes as an array.
  sent.push({ key: 'repeat', value: Buffer.from('x'), headers: { version: ['1', '2'] } });
  const metadata = await producer.send({ topic, messages: sent });
  const partitionOf = new Map<string, number>();
  const received: { partition: number; message: KafkaMessage }[] = [];

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ partition, message }) => void received.push({ partition, message }) });
  await waitUntil('all records consumed', () => received.length >= sent.length);

  expect(received).toHaveLength(sent.length);
  expect(new Set(metadata.map((m) => m.partition)).size).toBeGreaterThan(1);
  for (const { partition, message } of received) {
    const key = message.key?.toString('utf8') ?? '';
    // The default partitioner is deterministic per key: one key, one partition.
    if (partitionOf.has(key)) expect(partition).toBe(partitionOf.get(key));
    partitionOf.set(key, partition);
    const original = sent.find((s) => s.key === key && (key === 'repeat' || s.headers.id === message.headers?.id?.toString()));
    expect(original, `record with key ${key}`).toBeDefined();
    expect(Buffer.compare(message.value ?? Buffer.alloc(0), original!.value)).toBe(0);
    if (key === 'repeat') {
      expect((message.headers?.version as Buffer[]).map((b) => b.toString())).toEqual(['1', '2']);
    } else {
      expect(message.headers?.type?.toString()).toBe('HarnessEvent');
      expect(message.headers?.version?.toString()).toBe(original!.headers.version);
    }
  }
  // Within a partition, records arrive in the order they were produced.
  for (const key of partitionOf.keys()) {
    if (key === 'repeat') continue;
    const versions = received.filter((r) => r.message.key?.toString() === key).map((r) => Number(r.message.headers?.version?.toString()));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  }
});
