/**
 * Reads the dead-letter topic from its start to the end it had when the read began, and replays
 * selected dead letters to their original topics. kafkajs only consumes inside a consumer group,
 * so the read uses a throw-away group that commits nothing and is deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Partitioners, type Kafka } from 'kafkajs';
import { OutboxCacheError, errorMessage } from '../errors.js';
import { notConsumedReason, parseDeadLetter, replayRecord, type DeadLetter, type ReplayRecord, type SinkSubscription } from './dead-letters.js';

/** Thrown for Kafka failures of `dlq list` / `dlq replay`. */
export class DeadLetterToolError extends OutboxCacheError {}

/** Options of {@link readDeadLetters}. */
export interface ReadDeadLettersOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** Stops reading (returning what was read) when aborted. */
  readonly signal?: AbortSignal;
  /** Called after each batch with the number read so far and the number to read. */
  readonly onProgress?: (read: number, total: number) => void;
  /** Gives up when the end is not reached within this many ms (default 60,000). */
  readonly timeoutMs?: number;
}

/** What {@link readDeadLetters} found. */
export interface DeadLetterRead {
  readonly letters: DeadLetter[];
  /** False when the topic does not exist (nothing was ever dead-lettered). */
  readonly topicExists: boolean;
  /** True when stopped by the signal before the end. */
  readonly aborted: boolean;
}

/** Reads every record of the dead-letter topic present when the call began, in partition order. */
export async function readDeadLetters(options: ReadDeadLettersOptions): Promise<DeadLetterRead> {
  const { kafka, topic } = options;
  const admin = kafka.admin();
  await kafkaCall(`connect to Kafka`, () => admin.connect());
  const groupId = `outbox-cache-dlq-read-${randomBytes(6).toString('hex')}`;
  try {
    const topics = await kafkaCall('list topics', () => admin.listTopics());
    if (!topics.includes(topic)) return { letters: [], topicExists: false, aborted: false };
    const ends = new Map<number, bigint>();
    let total = 0n;
    for (const p of await kafkaCall(`read the offsets of ${topic}`, () => admin.fetchTopicOffsets(topic))) {
      const low = BigInt(p.low);
      const high = BigInt(p.high);
      if (high > low) {
        ends.set(p.partition, high);
        total += high - low;
      }
    }
    if (ends.size === 0) return { letters: [], topicExists: true, aborted: false };
    const letters = await consumeUntil(options, groupId, ends, Number(total));
    letters.sort((a, b) => a.partition - b.partition || (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    return { letters, topicExists: true, aborted: options.signal?.aborted ?? false };
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

async function consumeUntil(options: ReadDeadLettersOptions, groupId: string, ends: Map<number, bigint>, total: number): Promise<DeadLetter[]> {
  const consumer = options.kafka.consumer({ groupId, sessionTimeout: 10_000, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  const letters: DeadLetter[] = [];
  const remaining = new Set(ends.keys());
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const onAbort = (): void => finish();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(finish, options.timeoutMs ?? 60_000);
  try {
    await kafkaCall('connect the reader', () => consumer.connect());
    await kafkaCall(`subscribe to ${options.topic}`, () => consumer.subscribe({ topics: [options.topic], fromBeginning: true }));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = ends.get(batch.partition);
        if (end === undefined || !remaining.has(batch.partition)) return;
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= end) break;
          letters.push(parseDeadLetter(batch.partition, message));
        }
        const last = batch.messages[batch.messages.length - 1];
        if (last && BigInt(last.offset) + 1n >= end) remaining.delete(batch.partition);
        options.onProgress?.(letters.length, total);
        if (remaining.size === 0) finish();
      },
    });
    if (options.signal?.aborted) finish();
    await finished;
    if (remaining.size > 0 && !options.signal?.aborted) {
      throw new DeadLetterToolError(`timed out reading ${options.topic}: ${letters.length} of ${total} records read`, { code: 'DLQ_READ_TIMEOUT', retriable: true });
    }
    return letters;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await consumer.disconnect().catch(() => undefined);
  }
}

/** Options of {@link replayDeadLetters}. */
export interface ReplayOptions {
  readonly kafka: Kafka;
  /** The dead letters to replay (already selected). */
  readonly letters: readonly DeadLetter[];
  /** What the sink consumes: a letter whose original topic is outside it is refused. */
  readonly subscription: SinkSubscription;
  /** Records per produce request (default 500). */
  readonly batchSize?: number;
  /** Stops between batches when aborted. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (replayed: number, total: number) => void;
  /** Check everything, produce nothing. */
  readonly dryRun?: boolean;
}

/** What {@link replayDeadLetters} did. */
export interface ReplayResult {
  readonly replayed: number;
  readonly aborted: boolean;
}

/**
 * Checks every letter first (each names its original topic, which the sink consumes and which
 * exists with that partition) and refuses the whole replay, listing every problem, when one does
 * not; then produces them in order with acks=all.
 */
export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayResult> {
  const records = options.letters.map((letter) => ({ letter, record: replayRecord(letter) }));
  const problems: string[] = [];
  for (const { letter, record } of records) {
    const at = `dead letter ${letter.partition}:${letter.offset}`;
    if (!record) problems.push(`${at} does not name its original topic, partition and offset`);
    else {
      const reason = notConsumedReason(record.topic, options.subscription);
      if (reason) problems.push(`${at}: ${reason}`);
    }
  }
  const admin = options.kafka.admin();
  await kafkaCall('connect to Kafka', () => admin.connect());
  try {
    const wanted = [...new Set(records.flatMap(({ record }) => (record ? [record.topic] : [])))];
    const existing = new Set(await kafkaCall('list topics', () => admin.listTopics()));
    const partitions = new Map<string, number>();
    for (const topic of wanted) {
      if (!existing.has(topic)) continue;
      const meta = await kafkaCall(`describe ${topic}`, () => admin.fetchTopicMetadata({ topics: [topic] }));
      partitions.set(topic, meta.topics[0]?.partitions.length ?? 0);
    }
    for (const { letter, record } of records) {
      if (!record) continue;
      const count = partitions.get(record.topic);
      if (count === undefined) problems.push(`dead letter ${letter.partition}:${letter.offset}: topic ${record.topic} does not exist`);
      else if (record.partition >= count) problems.push(`dead letter ${letter.partition}:${letter.offset}: ${record.topic} has no partition ${record.partition}`);
    }
  } finally {
    await admin.disconnect();
  }
  if (problems.length > 0) {
    throw new DeadLetterToolError(`refusing to replay:\n${problems.map((p) => `  - ${p}`).join('\n')}`, { code: 'DLQ_REPLAY_REFUSED' });
  }
  if (options.dryRun) return { replayed: 0, aborted: false };
  return produceAll(options, records.map(({ record }) => record as ReplayRecord));
}

async function produceAll(options: ReplayOptions, records: readonly ReplayRecord[]): Promise<ReplayResult> {
  const producer = options.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await kafkaCall('connect the producer', () => producer.connect());
  const size = options.batchSize ?? 500;
  let replayed = 0;
  try {
    for (let i = 0; i < records.length; i += size) {
      if (options.signal?.aborted) return { replayed, aborted: true };
      const chunk = records.slice(i, i + size);
      // One request per batch; records of one topic-partition keep their order.
      await kafkaCall('produce the replayed records', () =>
        producer.sendBatch({
          acks: -1,
          topicMessages: chunk.map((r) => ({ topic: r.topic, messages: [{ ...r.message, partition: r.partition }] })),
        }),
      );
      replayed += chunk.length;
      options.onProgress?.(replayed, records.length);
    }
    return { replayed, aborted: false };
  } finally {
    await producer.disconnect();
  }
}

async function kafkaCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new DeadLetterToolError(`Kafka: cannot ${what}: ${errorMessage(err)}`, { code: 'DLQ_KAFKA_FAILED', retriable: true, cause: err });
  }
}
