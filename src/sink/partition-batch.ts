/**
 * Processing of one kafkajs batch (one partition, in offset order): parse, decode + map + coalesce
 * + apply in chunks, dead-letter poison records, resolve each chunk's offsets, and commit once per
 * batch (and at least every `commitIntervalMs`).
 * Nothing is committed past a record that was neither applied nor dead-lettered (DESIGN.md §5).
 */
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { OutboxCacheError, errorMessage } from '../errors.js';
import type { OutboxEvent } from '../outbox/event.js';
import { retry } from '../retry.js';
import type { Logger } from '../ops/logger.js';
import type { SinkMetrics } from '../ops/metrics.js';
import type { ApplyReport, ApplyStep } from './apply-step.js';
import type { PoisonRecord } from './dead-letter.js';
import { outboxRecordParser } from './record.js';
import type { Routing } from './routing.js';

/** The parts of kafkajs' `eachBatch` payload this module uses. */
export type BatchPayload = Pick<EachBatchPayload, 'resolveOffset' | 'heartbeat' | 'commitOffsetsIfNecessary' | 'isRunning' | 'isStale'> & {
  readonly batch: Pick<EachBatchPayload['batch'], 'topic' | 'partition' | 'messages'>;
};

/** What {@link processBatch} needs besides the payload. */
export interface BatchDeps {
  readonly step: ApplyStep;
  /** Topic → aggregate type and subject. Default `outbox.event.<type>`, TopicNameStrategy. */
  readonly routing?: Routing;
  /** Sends poison records to the dead-letter topic; throws (retriable) when it cannot. */
  readonly deadLetter: (records: readonly PoisonRecord[]) => Promise<void>;
  readonly logger: Logger;
  readonly metrics?: SinkMetrics;
  /** Aborted on shutdown: the chunk in progress is abandoned without committing. */
  readonly signal: AbortSignal;
  /** Most records per step call (one Redis apply). */
  readonly chunkSize: number;
  /** Backoff while a dependency is down (ms). */
  readonly retry?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** Told when this partition starts and stops waiting for a dependency (for readiness). */
  readonly onPaused?: (paused: boolean) => void;
  /** Longest time applied records of one batch stay uncommitted, ms. Default 1000. */
  readonly commitIntervalMs?: number;
  /** How often to heartbeat while a chunk is being applied or retried, ms. Default 1000. */
  readonly heartbeatIntervalMs?: number;
}

/**
 * Processes `payload.batch` chunk by chunk. Outages (Redis, registry, dead-letter producer) are
 * retried with backoff and jitter for as long as the consumer runs; the partition waits, nothing
 * is skipped. Returns early on shutdown or rebalance, leaving what was not committed yet to be
 * read again (harmless: idempotent by version).
 */
export async function processBatch(payload: BatchPayload, deps: BatchDeps): Promise<void> {
  const { topic, partition, messages } = payload.batch;
  // Ended when the group rebalances under this batch: kafkajs' runner learns of a rebalance only
  // from a heartbeat or a commit it sees fail, and this batch's own heartbeats would hide it.
  const membership = new AbortController();
  const batchDeps: BatchDeps = { ...deps, signal: AbortSignal.any([deps.signal, membership.signal]) };
  const stopped = (): boolean => batchDeps.signal.aborted || !payload.isRunning() || payload.isStale();
  // Keeps the group membership alive while a chunk waits on Redis; kafkajs throttles the calls.
  const timer = setInterval(() => {
    payload.heartbeat().catch((err: unknown) => {
      if (!isMembershipLost(err)) return;
      deps.logger.info({ topic, partition, err: errorMessage(err) }, 'group rebalancing; leaving the batch to rejoin');
      membership.abort();
    });
  }, deps.heartbeatIntervalMs ?? 1000);
  let lastCommit = Date.now();
  try {
    for (let start = 0; start < messages.length; start += deps.chunkSize) {
      if (stopped()) return;
      const chunk = messages.slice(start, start + deps.chunkSize);
      const done = await processChunk(topic, partition, chunk, batchDeps, stopped);
      if (!done || stopped()) return;
      const applied = chunk[chunk.length - 1]!.offset;
      payload.resolveOffset(applied);
      // One commit per batch (and at least every commitIntervalMs in a long one): a crash
      // re-applies what was not committed, which the version guard makes harmless.
      const last = start + deps.chunkSize >= messages.length;
      if (last || Date.now() - lastCommit >= (deps.commitIntervalMs ?? 1000)) {
        await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: (BigInt(applied) + 1n).toString() }] }] });
        lastCommit = Date.now();
      }
      await payload.heartbeat();
    }
  } finally {
    clearInterval(timer);
  }
  // The next heartbeat of kafkajs' runner sees the rebalance and rejoins.
  if (membership.signal.aborted) return;
}

/** kafkajs error types that mean this member must rejoin its group before going on. */
const MEMBERSHIP_ERRORS = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR_FOR_GROUP', 'NOT_COORDINATOR', 'FENCED_INSTANCE_ID']);

/** True for a heartbeat failure that means the group moved on without this member. */
export function isMembershipLost(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  return typeof type === 'string' && MEMBERSHIP_ERRORS.has(type);
}

/** Applies and dead-letters one chunk; false when it was abandoned (shutdown or rebalance). */
async function processChunk(
  topic: string, partition: number, chunk: readonly KafkaMessage[], deps: BatchDeps, stopped: () => boolean,
): Promise<boolean> {
  const events: OutboxEvent[] = [];
  const eventMessages: KafkaMessage[] = [];
  const poison: PoisonRecord[] = [];
  const toPoison = (message: KafkaMessage, err: unknown): PoisonRecord => ({
    topic, partition, offset: message.offset, key: message.key, value: message.value, timestamp: message.timestamp, headers: message.headers,
    code: err instanceof OutboxCacheError ? err.code : 'UNEXPECTED', message: errorMessage(err),
  });
  let ignored = 0;
  const parse = outboxRecordParser(topic, deps.routing);
  for (const message of chunk) {
    try {
      const parsed = parse(message);
      if (parsed.kind === 'ignored') {
        ignored += 1;
      } else {
        events.push(parsed.event);
        eventMessages.push(message);
      }
    } catch (err) {
      poison.push(toPoison(message, err));
    }
  }
  const started = performance.now();
  const report = await untilDone('apply', deps, stopped, () => deps.step(events, topic));
  if (!report) return false;
  for (const p of report.poisoned) poison.push(toPoison(eventMessages[p.index]!, p.error));
  poison.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
  if (poison.length > 0 && !(await untilDone('dead-letter', deps, stopped, () => deps.deadLetter(poison).then(() => true)))) return false;
  record(topic, chunk.length, ignored, events, report, poison, (performance.now() - started) / 1000, deps);
  return true;
}

/** Runs `fn` until it succeeds; undefined when the consumer stopped first. */
async function untilDone<T>(stage: string, deps: BatchDeps, stopped: () => boolean, fn: () => Promise<T>): Promise<T | undefined> {
  let paused = false;
  try {
    return await retry(fn, {
      initialDelayMs: deps.retry?.initialDelayMs ?? 100,
      maxDelayMs: deps.retry?.maxDelayMs ?? 10_000,
      signal: deps.signal,
      // Every failure here is an outage or a bug in a dependency, never a property of one record
      // (those are reported as poison): waiting is the only way that skips nothing.
      shouldRetry: () => !stopped(),
      onRetry: (err, attempt, delayMs) => {
        if (!paused) deps.onPaused?.((paused = true));
        deps.metrics?.retries.inc({ stage });
        deps.logger.warn({ stage, attempt, delayMs, code: err instanceof OutboxCacheError ? err.code : undefined, err: errorMessage(err) }, `${stage} failed; retrying`);
      },
    });
  } catch (err) {
    if (stopped()) return undefined;
    throw err;
  } finally {
    if (paused) deps.onPaused?.(false);
  }
}

function record(
  topic: string, consumed: number, ignored: number, events: readonly OutboxEvent[], report: ApplyReport,
  poison: readonly PoisonRecord[], seconds: number, deps: BatchDeps,
): void {
  for (const p of poison) deps.logger.warn({ topic, partition: p.partition, offset: p.offset, code: p.code, err: p.message }, 'record dead-lettered');
  const m = deps.metrics;
  if (!m) return;
  m.consumed.inc({ topic }, consumed);
  if (ignored > 0) m.ignored.inc({ topic }, ignored);
  if (report.applied > 0) m.applied.inc({ topic }, report.applied);
  if (report.stale > 0) m.staleSkipped.inc({ topic }, report.stale);
  for (const p of poison) m.deadLettered.inc({ topic, code: p.code });
  m.batchApplySeconds.observe(seconds);
  const now = Date.now();
  const poisoned = new Set(report.poisoned.map((p) => p.index));
  events.forEach((event, i) => {
    if (!poisoned.has(i) && event.occurredAtMs > 0) m.stalenessSeconds.observe(Math.max(0, now - event.occurredAtMs) / 1000);
  });
}
