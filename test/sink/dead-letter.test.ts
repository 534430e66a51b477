/**
 * Dead letters under a byte budget: sends split, a dead letter too large for Kafka sent without
 * its value (with a header saying so), never a partition blocked by one record.
 */
import { describe, expect, it } from 'vitest';
import type { KafkaMessage, Message, Producer } from 'kafkajs';
import { outboxTopic } from '../../src/outbox/event.js';
import { DEAD_LETTER_HEADERS, messageBytes, planDeadLetters, sendToDeadLetter, type PoisonRecord } from '../../src/sink/dead-letter.js';
import { createTestKafka, createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { committedOffsets, debeziumMessage, debeziumProducer, endOffsets, startTestSink, total } from './harness.js';

function poison(offset: number, valueBytes: number): PoisonRecord {
  return {
    topic: 'outbox.event.user', partition: 0, offset: String(offset), key: Buffer.from('k'), value: Buffer.alloc(valueBytes, 1), timestamp: '1',
    headers: { version: Buffer.from('1') }, code: 'DECODE_BAD_MAGIC', message: 'bad magic byte',
  };
}

describe('planDeadLetters', () => {
  it('keeps order, fits every send in the budget, and leaves out values that alone exceed it', () => {
    const records = [poison(1, 300_000), poison(2, 300_000), poison(3, 300_000), poison(4, 5_000_000), poison(5, 10)];
    const sends = planDeadLetters(records, 700_000);
    expect(sends.map((s) => s.map((m) => String(m.headers?.[DEAD_LETTER_HEADERS.offset])))).toEqual([['1', '2'], ['3', '4', '5']]);
    for (const send of sends) expect(send.reduce((n, m) => n + messageBytes(m), 0)).toBeLessThanOrEqual(700_000);
    const big = sends[1]![1]!;
    expect(big.value).toBeNull();
    expect(String(big.headers?.[DEAD_LETTER_HEADERS.valueDropped])).toMatch(/5000000-byte value was left out/);
    expect(big.key?.toString()).toBe('k');
  });
});

describe('sendToDeadLetter', () => {
  it('splits a send Kafka refuses as too large and shrinks a single dead letter it refuses', async () => {
    const sent: Message[][] = [];
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { type: 'MESSAGE_TOO_LARGE' });
    const producer = {
      send: async ({ messages }: { messages: Message[] }) => {
        // This broker takes at most 2 messages and no value over 1000 bytes.
        if (messages.length > 2 || messages.some((m) => (m.value?.length ?? 0) > 1000)) throw tooLarge;
        sent.push(messages);
        return [];
      },
    } as unknown as Producer;
    await sendToDeadLetter(producer, 'dlq', [poison(1, 10), poison(2, 10), poison(3, 5000), poison(4, 10)]);
    expect(sent.flat().map((m) => [String(m.headers?.[DEAD_LETTER_HEADERS.offset]), m.value?.length ?? null])).toEqual([['1', 10], ['2', 10], ['3', null], ['4', 10]]);
    expect(String(sent.flat()[2]!.headers?.[DEAD_LETTER_HEADERS.valueDropped])).toContain('refused by Kafka as too large');
  });

  it('reports any other failure as a retriable DLQ_UNAVAILABLE', async () => {
    const producer = { send: async () => { throw new Error('connection refused'); } } as unknown as Producer;
    await expect(sendToDeadLetter(producer, 'dlq', [poison(1, 10)])).rejects.toMatchObject({ code: 'DLQ_UNAVAILABLE', retriable: true });
  });
});

describe('a sink dead-lettering a 10 MB record', () => {
  const kafka = createTestKafka();
  const { redis, prefix } = createTestRedis();

  it('sends it without its value and moves the partition on', async () => {
    const type = uniqueName('usr');
    const topic = outboxTopic(type);
    const producer = await debeziumProducer(kafka);
    // Bad magic byte: poison; 10 MB: over any dead-letter budget.
    const huge = Buffer.alloc(10 * 1024 * 1024, 7);
    const sent = await producer.send({ topic, acks: -1, messages: [debeziumMessage({ aggregateId: 'big', version: 1, payload: huge })] });
    await producer.disconnect();
    const partition = sent[0]!.partition;
    const dlqTopic = uniqueName('dlq');
    const groupId = uniqueName('sink');
    const sink = await startTestSink({ kafka, redis, registryUrl: 'http://127.0.0.1:1', topics: [topic], groupId, dlqTopic, keyPrefix: prefix });
    const admin = kafka.admin();
    await admin.connect();
    const dead: KafkaMessage[] = [];
    const reader = kafka.consumer({ groupId: uniqueName('dlq-reader') });
    try {
      await waitUntil('the partition moved past the huge record', async () => {
        const [committed, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
        return committed.get(partition) === ends.get(partition);
      }, 60_000);
      expect(await total(sink.metrics.deadLettered)).toBe(1);
      await reader.connect();
      await reader.subscribe({ topics: [dlqTopic], fromBeginning: true });
      await reader.run({ eachMessage: async ({ message }) => void dead.push(message) });
      await waitUntil('the dead letter read', () => dead.length === 1);
    } finally {
      await Promise.allSettled([reader.disconnect(), admin.disconnect()]);
      await sink.stop();
      redis.disconnect();
    }
    expect(dead[0]!.value).toBeNull();
    expect(dead[0]!.key?.toString()).toBe('big');
    expect(dead[0]!.headers?.[DEAD_LETTER_HEADERS.errorCode]?.toString()).toBe('DECODE_BAD_MAGIC');
    expect(dead[0]!.headers?.[DEAD_LETTER_HEADERS.valueDropped]?.toString()).toMatch(/10485760-byte value was left out/);
  }, 90_000);
});

