/**
 * The auditor's Kafka adapter: its own consumer group on the outbox topics, records parsed and
 * mapped exactly as the sink does (routing.ts, keys.ts), checks submitted to the {@link Auditor}.
 * Offsets are resolved as records are read (so fetching moves on) but committed only up to the
 * last record whose checks are all done: with a 60 s delay, the committed offset trails by about
 * a minute, and a restart re-checks those records (harmless: checks only read).
 */
import type { EachBatchPayload, Kafka } from 'kafkajs';
import { errorMessage, isRetriable } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import { retry, sleep } from '../retry.js';
import type { Routing } from '../sink/routing.js';
import { matchTopics } from '../sink/topic-discovery.js';
import { installRecordBatchDecoder } from '../sink/kafkajs-record-decoder.js';
import type { OutboxEvent } from '../outbox/event.js';
import type { AuditedKey, Auditor } from './auditor.js';
import type { KeyMapper } from './keys.js';
import { PartitionProgress } from './offsets.js';
import { auditRecordParser } from './routing.js';

/** Options of {@link startAuditConsumer}. */
export interface AuditConsumerOptions {
  readonly kafka: Kafka;
  readonly groupId: string;
  /** Topic names, or patterns matched once against the cluster's topics (internal `__*` topics never match). */
  readonly topics: readonly (string | RegExp)[];
  readonly fromBeginning: boolean;
  readonly auditor: Auditor;
  readonly keys: KeyMapper;
  /** The sink's routing (topic → aggregate type). Default `outbox.event.<type>`. */
  readonly routing?: Routing;
  readonly logger: Logger;
  /** Aborting stops consuming; done checks are committed, the others are read again after a restart. */
  readonly signal: AbortSignal;
  readonly sessionTimeoutMs?: number;
  readonly fetchMaxBytes?: number;
  readonly fetchMaxBytesPerPartition?: number;
  readonly partitionConcurrency?: number;
  /** How often offsets of finished records are committed, ms. Default 1000. */
  readonly commitIntervalMs?: number;
  /** With patterns and no matching topic yet: how often to look again, ms. Default 30000. */
  readonly topicRefreshMs?: number;
  /** Backoff while the registry is unreachable. */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
}

/** A running audit consumer. */
export interface RunningAuditConsumer {
  /** True while the consumer is in its group. */
  joined(): boolean;
  /** False after the consumer crashed without restarting. */
  healthy(): boolean;
  /** Subscribed topics. */
  topics(): readonly string[];
  /** Resolves after a clean stop; rejects on a fatal crash. */
  readonly done: Promise<void>;
}

const NO_KEYS: readonly AuditedKey[] = Object.freeze([]);

/** The checks of one fetched batch, counted until the batch is tracked as one record. */
class BatchChecks {
  scheduled = 0;
  #finished = 0;
  #done: (() => void) | undefined;
  readonly onCheckDone = (): void => {
    if (this.#done) this.#done();
    else this.#finished += 1;
  };

  /** Tracks the batch under `offset` and passes on the checks already finished. */
  track(progress: PartitionProgress, offset: bigint): void {
    this.#done = progress.track(offset, this.scheduled);
    for (; this.#finished > 0; this.#finished--) this.#done();
  }
}

/** The keys of an event whose schema must be fetched first, retrying while the registry is unreachable. */
function mapWithRetry(event: OutboxEvent, topic: string, options: AuditConsumerOptions, signal: AbortSignal): Promise<readonly AuditedKey[]> {
  return retry(async () => options.keys(event, topic), {
    ...options.retry, signal,
    onRetry: (err) => options.logger.warn({ aggregateType: event.aggregateType, err: errorMessage(err) }, 'registry unavailable; retrying'),
  });
}

interface Progress {
  readonly progress: PartitionProgress;
  /** The offset after the last record tracked: an older one means the partition is read again. */
  next: bigint;
}

/** Connects, subscribes and starts consuming; resolves once consumption has started. */
export async function startAuditConsumer(options: AuditConsumerOptions): Promise<RunningAuditConsumer> {
  const { kafka, auditor, logger, signal } = options;
  // The sink's allocation-light record batch decoder (process-wide, as the sink installs it).
  installRecordBatchDecoder(true);
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId: options.groupId, sessionTimeout, heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)), maxWaitTimeInMs: 1000,
    maxBytes: options.fetchMaxBytes ?? 4 * 1024 * 1024, maxBytesPerPartition: options.fetchMaxBytesPerPartition ?? 1024 * 1024,
  });
  const partitions = new Map<string, Progress>();
  let joined = false;
  let healthy = true;
  let fail: (err: unknown) => void = () => {};
  const crashed = new Promise<never>((_, reject) => (fail = reject));
  crashed.catch(() => {});
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    joined = true;
    // Partitions are read again from their committed offsets: start tracking afresh.
    partitions.clear();
    logger.info({ groupId: e.payload.groupId, assignment: e.payload.memberAssignment }, 'joined consumer group');
  });
  consumer.on(consumer.events.REBALANCING, () => (joined = false));
  consumer.on(consumer.events.CRASH, (e) => {
    logger.error({ err: e.payload.error.message, restart: e.payload.restart }, 'consumer crashed');
    if (!e.payload.restart) {
      healthy = false;
      fail(e.payload.error);
    }
  });

  const commitDone = async (): Promise<void> => {
    const offsets: { topic: string; partition: number; offset: string }[] = [];
    const committed: [PartitionProgress, bigint][] = [];
    for (const [id, { progress }] of partitions) {
      const offset = progress.toCommit();
      if (offset === undefined) continue;
      const slash = id.lastIndexOf('/');
      offsets.push({ topic: id.slice(0, slash), partition: Number(id.slice(slash + 1)), offset: offset.toString() });
      committed.push([progress, offset]);
    }
    if (offsets.length === 0) return;
    try {
      await consumer.commitOffsets(offsets);
      for (const [progress, offset] of committed) progress.markCommitted(offset);
    } catch (err) {
      // A rebalance took the partition away: its new owner re-checks from the committed offset.
      logger.debug({ err: errorMessage(err) }, 'offset commit failed; retrying at the next interval');
    }
  };

  const eachBatch = async (payload: EachBatchPayload): Promise<void> => {
    const { topic, partition, messages } = payload.batch;
    const parse = auditRecordParser(topic, options.routing);
    const id = `${topic}/${partition}`;
    const stopped = (): boolean => signal.aborted || !payload.isRunning() || payload.isStale();
    const first = messages[0];
    const last = messages.at(-1);
    if (!first || !last) return;
    const firstOffset = BigInt(first.offset);
    let entry = partitions.get(id);
    if (!entry || firstOffset < entry.next) partitions.set(id, (entry = { progress: new PartitionProgress(), next: firstOffset }));
    // The batch is tracked as one record (its last offset): one callback for all its checks, and
    // completions that come before the batch is tracked (while it waits for room) are kept.
    const batch = new BatchChecks();
    for (const message of messages) {
      if (stopped()) return;
      let keys: readonly AuditedKey[] = NO_KEYS;
      let commitMs = 0;
      try {
        const parsed = parse(message);
        if (parsed.kind === 'event') {
          commitMs = parsed.event.occurredAtMs;
          // Nearly always synchronous (schema already known): no promise per record.
          const mapped = options.keys(parsed.event, topic);
          keys = Array.isArray(mapped) ? mapped : await mapWithRetry(parsed.event, topic, options, signal);
        }
      } catch (err) {
        if (stopped()) return;
        if (isRetriable(err)) throw err;
        auditor.skipped('unauditable');
        logger.warn({ topic, partition, offset: message.offset, code: (err as { code?: string }).code, err: errorMessage(err) }, 'record cannot be audited (the sink dead-letters it)');
      }
      while (!auditor.hasRoom() && !stopped()) {
        await auditor.waitForRoom(signal);
        await payload.heartbeat();
      }
      if (stopped()) return;
      if (keys.length > 0) batch.scheduled += auditor.submit(keys, commitMs, batch.onCheckDone);
    }
    const lastOffset = BigInt(last.offset);
    batch.track(entry.progress, lastOffset);
    entry.next = lastOffset + 1n;
    // One resolve per batch: the last record read (commits follow the checks, not this).
    payload.resolveOffset(last.offset);
    await payload.heartbeat();
  };

  await consumer.connect();
  let topics: string[];
  try {
    topics = await subscribedTopics(kafka, options, logger);
    if (topics.length > 0) {
      await consumer.subscribe({ topics, fromBeginning: options.fromBeginning });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: options.partitionConcurrency ?? 4, eachBatch });
    }
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  }
  logger.info({ groupId: options.groupId, topics }, 'audit consumer started');
  const committer = setInterval(() => void commitDone(), options.commitIntervalMs ?? 1000);
  const stopped = new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const done = Promise.race([stopped, crashed]).finally(async () => {
    clearInterval(committer);
    joined = false;
    // kafkajs can commit only while the consumer runs: commit what is done, then leave.
    await commitDone();
    await consumer.stop().catch(() => {});
    await consumer.disconnect().catch(() => {});
  });
  return { joined: () => joined || topics.length === 0, healthy: () => healthy, topics: () => topics, done };
}

/** Literal topics as given; patterns matched against the cluster's topics, looked up again until one matches. */
async function subscribedTopics(kafka: Kafka, options: AuditConsumerOptions, logger: Logger): Promise<string[]> {
  if (!options.topics.some((t) => t instanceof RegExp)) return options.topics.map(String);
  const admin = kafka.admin();
  await admin.connect();
  try {
    for (;;) {
      const topics = matchTopics(options.topics, await admin.listTopics());
      if (topics.length > 0 || options.signal.aborted) return topics;
      logger.warn({ topics: options.topics.map(String) }, 'no topic matches yet; looking again');
      await sleep(options.topicRefreshMs ?? 30_000, options.signal);
    }
  } finally {
    await admin.disconnect();
  }
}
