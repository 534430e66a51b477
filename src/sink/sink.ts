/**
 * The Kafka adapter of the sink: a kafkajs consumer group (eachBatch, autoCommit off, partitions in
 * parallel) feeding {@link processBatch}, a producer for the dead-letter topic, and, with a topic
 * pattern, an admin client that lists the cluster's topics to subscribe to new matching ones.
 */
import { Partitioners, type Admin, type Consumer, type ConsumerRunConfig, type Kafka } from 'kafkajs';
import { ConfigError, OutboxCacheError, errorMessage } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import type { SinkMetrics } from '../ops/metrics.js';
import { sleep } from '../retry.js';
import type { ApplyStep } from './apply-step.js';
import { sendToDeadLetter } from './dead-letter.js';
import { installRecordBatchDecoder } from './kafkajs-record-decoder.js';
import { processBatch } from './partition-batch.js';
import { DEFAULT_ROUTING, unroutableTopics, type Routing } from './routing.js';
import { addedTopics, hasPattern, matchTopics } from './topic-discovery.js';

/** Options of {@link startSink}. */
export interface SinkOptions {
  /** A kafkajs client (brokers, TLS, SASL already configured). */
  readonly kafka: Kafka;
  readonly groupId: string;
  /**
   * Topics to consume. RegExps are matched against the cluster's topics at start and every
   * `topicRefreshMs` (internal `__*` topics, Debezium heartbeats included, never match).
   */
  readonly topics: readonly (string | RegExp)[];
  /**
   * How often to list the cluster's topics for new ones matching a RegExp of `topics`, ms.
   * Default 30000; 0 resolves the patterns once, at start. Unused without a RegExp.
   */
  readonly topicRefreshMs?: number;
  /**
   * Where a new consumer group starts on the topics that exist when the sink starts. Default true
   * (earliest: replay is idempotent). Topics discovered later always start at their earliest offset.
   */
  readonly fromBeginning?: boolean;
  readonly dlqTopic: string;
  /** Byte budget of one dead-letter send and of one dead letter (larger ones lose their value). Default 1,000,000. */
  readonly dlqMaxBytes?: number;
  /**
   * Topic → aggregate type (and the subject strategy the step was built with). Default
   * `outbox.event.<type>`. A subscribed topic it cannot route fails the start with a ConfigError;
   * one discovered later is logged as an error and its records are dead-lettered.
   */
  readonly routing?: Routing;
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
  /**
   * Kafka group session timeout, ms: how long the group waits for a member that stopped
   * heartbeating (crashed, SIGKILL) before moving its partitions. Default 10000.
   */
  readonly sessionTimeoutMs?: number;
  /** How often the member heartbeats, ms. Default 1000 (at most a third of the session timeout). */
  readonly heartbeatIntervalMs?: number;
  /** How long a rebalance waits for every member to rejoin, ms. Default 30000. */
  readonly rebalanceTimeoutMs?: number;
  /**
   * Which decoder turns fetched record batches into records: `lean` (default), the project's
   * field-for-field equivalent of kafkajs' that allocates far less (see kafkajs-record-decoder.ts),
   * or `kafkajs`. Process-wide: the first sink started in a process decides.
   */
  readonly recordDecoder?: 'lean' | 'kafkajs';
}

/**
 * Consumer-group timing defaults, chosen so that a restarted or replacement sink resumes within
 * seconds: a member that dies without leaving (SIGKILL, OOM) holds its partitions for one session
 * timeout, and a member that leaves (SIGTERM, start-up or fatal error) hands them over at once.
 */
export const DEFAULT_GROUP_TIMING = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 30_000 } as const;

/** A running sink. */
export interface RunningSink {
  /**
   * True once the consumer joined its group (or, with a pattern, while no topic matches it yet),
   * while no partition waits on an outage.
   */
  ready(): boolean;
  /** False after the consumer crashed without restarting. */
  healthy(): boolean;
  /** Resolves after a clean stop (signal aborted, clients disconnected); rejects on a fatal crash. */
  readonly done: Promise<void>;
}

/** Connects, subscribes and starts consuming. Resolves once consumption has started. */
export async function startSink(options: SinkOptions): Promise<RunningSink> {
  const { kafka, logger, signal } = options;
  const routing = options.routing ?? DEFAULT_ROUTING;
  const decoder = installRecordBatchDecoder(options.recordDecoder !== 'kafkajs');
  logger.info({ recordDecoder: decoder }, 'record batch decoder');
  // Dead letters keep their key and go where Java clients would put it (murmur2).
  const producer = kafka.producer({ allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  const sessionTimeout = options.sessionTimeoutMs ?? DEFAULT_GROUP_TIMING.sessionTimeoutMs;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout,
    heartbeatInterval: Math.min(options.heartbeatIntervalMs ?? DEFAULT_GROUP_TIMING.heartbeatIntervalMs, Math.floor(sessionTimeout / 3)),
    rebalanceTimeout: options.rebalanceTimeoutMs ?? DEFAULT_GROUP_TIMING.rebalanceTimeoutMs,
    // Bounds how long a shutdown waits for an idle long-poll fetch to return.
    maxWaitTimeInMs: options.maxWaitTimeMs ?? 1000,
    maxBytes: options.fetchMaxBytes ?? 4 * 1024 * 1024,
    maxBytesPerPartition: options.fetchMaxBytesPerPartition ?? 1024 * 1024,
  });
  const admin = hasPattern(options.topics) ? kafka.admin() : undefined;
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
  consumer.on(consumer.events.STOP, () => (joined = false));
  consumer.on(consumer.events.CRASH, (e) => {
    logger.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart) {
      healthy = false;
      fail(e.payload.error);
    }
  });
  const runConfig = (batchSignal: AbortSignal): ConsumerRunConfig => ({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionConcurrency ?? 4,
    eachBatch: (payload) => {
      const id = `${payload.batch.topic}/${payload.batch.partition}`;
      return processBatch(payload, {
        step: options.step,
        routing,
        deadLetter: (records) => sendToDeadLetter(producer, options.dlqTopic, records, options.dlqMaxBytes),
        logger,
        metrics: options.metrics,
        signal: batchSignal,
        chunkSize: options.chunkSize ?? 1000,
        retry: options.retry,
        onPaused: (p) => void (p ? paused.add(id) : paused.delete(id)),
      });
    },
  });

  const subscription = new Subscription(consumer, runConfig, signal, logger);
  try {
    await producer.connect();
    await consumer.connect();
    let initial = options.topics.map(String);
    if (admin) {
      await admin.connect();
      initial = matchTopics(options.topics, await admin.listTopics());
    }
    // A topic the sink was told to consume but cannot route is a configuration mistake (§3).
    const unroutable = unroutableTopics(initial, routing);
    if (unroutable.length > 0) throw new ConfigError(unroutable.map((u) => ({ setting: 'ROUTING_TOPIC_PATTERN', message: u.reason })));
    await subscription.extend(initial, options.fromBeginning ?? true);
  } catch (err) {
    // Leaves the group (if joined) so that another member takes the partitions at once.
    await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin?.disconnect()]);
    if (err instanceof OutboxCacheError || !(err instanceof Error) || !err.name.startsWith('KafkaJS')) throw err;
    throw new OutboxCacheError(`cannot reach Kafka (${err.message}); check KAFKA_BROKERS, TLS and SASL settings`, { code: 'KAFKA_UNAVAILABLE', retriable: true, cause: err });
  }
  logger.info({ groupId: options.groupId, topics: options.topics.map(String), subscribed: subscription.topics() }, 'sink started');
  if (admin && subscription.topics().length === 0) logger.warn({ topics: options.topics.map(String) }, 'no topic matches yet');

  // Stops the discovery loop on shutdown and on a fatal crash alike.
  const lifetime = new AbortController();
  signal.addEventListener('abort', () => lifetime.abort(), { once: true });
  const refreshMs = options.topicRefreshMs ?? 30_000;
  const discovery = admin && refreshMs > 0 ? discoverTopics(admin, options.topics, refreshMs, subscription, lifetime.signal, logger, routing) : Promise.resolve();

  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const done = Promise.race([stopped, crashed]).finally(async () => {
    lifetime.abort();
    await discovery;
    joined = false;
    await Promise.allSettled([consumer.disconnect(), admin?.disconnect()]);
    await Promise.allSettled([producer.disconnect()]);
    logger.info('sink stopped');
  });
  const consuming = (): boolean => joined || (admin !== undefined && subscription.topics().length === 0);
  return { ready: () => consuming() && healthy && paused.size === 0 && !signal.aborted, healthy: () => healthy, done };
}

/**
 * The consumer's topic set. Adding topics goes through the sink's graceful stop: batches in
 * progress are aborted (they commit nothing past what they applied, see processBatch), kafkajs
 * waits for them and leaves the group, then the consumer subscribes to the new topics and runs
 * again; the group resumes every partition from its committed offset.
 */
class Subscription {
  readonly #subscribed = new Set<string>();
  #running = false;
  // Aborted to end the batches of the current run only (the sink's own signal ends all runs).
  #generation = new AbortController();

  constructor(
    private readonly consumer: Consumer,
    private readonly runConfig: (batchSignal: AbortSignal) => ConsumerRunConfig,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
  ) {}

  /** Subscribed topic names, sorted. */
  topics(): string[] {
    return [...this.#subscribed].sort();
  }

  /** Subscribes to `added` (if any) and makes sure the consumer runs when it has topics. */
  async extend(added: readonly string[], fromBeginning: boolean): Promise<void> {
    if (added.length === 0 && (this.#running || this.#subscribed.size === 0)) return;
    if (this.#running) {
      this.#generation.abort();
      await this.consumer.stop();
      this.#running = false;
    }
    if (added.length > 0) {
      await this.consumer.subscribe({ topics: [...added], fromBeginning });
      for (const topic of added) this.#subscribed.add(topic);
    }
    if (this.signal.aborted) return;
    this.#generation = new AbortController();
    await this.consumer.run(this.runConfig(AbortSignal.any([this.signal, this.#generation.signal])));
    this.#running = true;
    this.logger.debug({ topics: this.topics() }, 'consumer running');
  }
}

/** Every `refreshMs`, subscribes to the topics that newly match a pattern, until `signal` aborts. */
async function discoverTopics(
  admin: Admin, patterns: readonly (string | RegExp)[], refreshMs: number, subscription: Subscription, signal: AbortSignal, logger: Logger,
  routing: Routing,
): Promise<void> {
  while (!signal.aborted) {
    await sleep(refreshMs, signal);
    if (signal.aborted) return;
    try {
      const added = addedTopics(new Set(subscription.topics()), matchTopics(patterns, await admin.listTopics()));
      if (added.length > 0) logger.info({ added, topics: [...subscription.topics(), ...added].sort() }, 'new topics match the pattern; re-subscribing');
      // Consumed anyway, so that each record is dead-lettered with the reason instead of waiting unseen.
      for (const u of unroutableTopics(added, routing)) logger.error({ topic: u.topic, reason: u.reason }, 'subscribed topic cannot be routed; its records go to the dead-letter topic');
      // Topics that appear after the sink started carry only new records: read them from the start.
      await subscription.extend(added, true);
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'topic discovery failed; retrying at the next refresh');
    }
  }
}
