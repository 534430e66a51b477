/**
 * The Kafka adapter of the sink: a kafkajs consumer group (eachBatch, autoCommit off, partitions in
 * parallel) feeding {@link processBatch}, and a producer for the dead-letter topic.
 */
import { Partitioners, type Kafka } from 'kafkajs';
import type { Logger } from '../ops/logger.js';
import type { SinkMetrics } from '../ops/metrics.js';
import type { ApplyStep } from './apply-step.js';
import { sendToDeadLetter } from './dead-letter.js';
import { processBatch } from './partition-batch.js';

/** Options of {@link startSink}. */
export interface SinkOptions {
  /** A kafkajs client (brokers, TLS, SASL already configured). */
  readonly kafka: Kafka;
  readonly groupId: string;
  /** Topics to consume; RegExps match the topics that exist when the sink starts. */
  readonly topics: readonly (string | RegExp)[];
  /** Where a new consumer group starts. Default true (earliest: replay is idempotent). */
  readonly fromBeginning?: boolean;
  readonly dlqTopic: string;
  /** The decode + map + coalesce + apply step (see createApplyStep). */
  readonly step: ApplyStep;
  readonly logger: Logger;
  readonly metrics?: SinkMetrics;
  /** Aborting stops the sink: the batch in progress is abandoned uncommitted, clients disconnect. */
  readonly signal: AbortSignal;
  /** Partitions processed in parallel. Default 4. */
  readonly partitionConcurrency?: number;
  /** Most records per apply and offset commit. Default 1000. */
  readonly chunkSize?: number;
  /** Backoff while Redis, the registry or the dead-letter producer is down, ms. */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** Most bytes per fetch over all partitions, and per partition: bound the records held in memory. Defaults 4 MiB and 1 MiB. */
  readonly fetchMaxBytes?: number;
  readonly fetchMaxBytesPerPartition?: number;
  /** Longest a fetch waits for new records on the broker, ms. Default 1000. */
  readonly maxWaitTimeMs?: number;
  /** Kafka group session timeout, ms. Default 30000. */
  readonly sessionTimeoutMs?: number;
}

/** A running sink. */
export interface RunningSink {
  /** True once the consumer joined its group, while no partition waits on an outage. */
  ready(): boolean;
  /** False after the consumer crashed without restarting. */
  healthy(): boolean;
  /** Resolves after a clean stop (signal aborted, clients disconnected); rejects on a fatal crash. */
  readonly done: Promise<void>;
}

/** Connects, subscribes and starts consuming. Resolves once consumption has started. */
export async function startSink(options: SinkOptions): Promise<RunningSink> {
  const { kafka, logger, signal } = options;
  // Dead letters keep their key and go where Java clients would put it (murmur2).
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout,
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
    // Bounds how long a shutdown waits for an idle long-poll fetch to return.
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 1000,
    maxBytes: options.fetchMaxBytes ?? 4 * 1024 * 1024,
    maxBytesPerPartition: options.fetchMaxBytesPerPartition ?? 1024 * 1024,
  });
  let joined = false;
  let healthy = true;
  const paused = new Set<string>();
  let fail: (err: unknown) => void = () => {};
  const crashed = new Promise<never>((_, reject) => (fail = reject));
  crashed.catch(() => {});
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    logger.info({ groupId: e.payload.groupId, memberId: e.payload.memberId, assignment: e.payload.memberAssignment }, 'joined consumer group');
  });
  consumer.on(consumer.events.REBALANCING, () => (joined = false));
  consumer.on(consumer.events.CRASH, (e) => {
    logger.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart) {
      healthy = false;
      fail(e.payload.error);
    }
  });

  await producer.connect();
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionConcurrency ?? 4,
      eachBatch: (payload) => {
        const id = `${payload.batch.topic}/${payload.batch.partition}`;
        return processBatch(payload, {
          step: options.step,
          deadLetter: (records) => sendToDeadLetter(producer, options.dlqTopic, records),
          logger,
          metrics: options.metrics,
          signal,
          chunkSize: options.chunkSize ?? 1000,
          retry: options.retry,
          onPaused: (p) => void (p ? paused.add(id) : paused.delete(id)),
        });
      },
    });
  } catch (err) {
    await Promise.allSettled([consumer.disconnect(), producer.disconnect()]);
    throw err;
  }
  logger.info({ groupId: options.groupId, topics: options.topics.map(String) }, 'sink started');

  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const done = Promise.race([stopped, crashed]).finally(async () => {
    joined = false;
    await Promise.allSettled([consumer.disconnect()]);
    await Promise.allSettled([producer.disconnect()]);
    logger.info('sink stopped');
  });
  return { ready: () => joined && healthy && paused.size === 0 && !signal.aborted, healthy: () => healthy, done };
}
