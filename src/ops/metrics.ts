/** Prometheus metrics of the sink (prom-client), registered on a registry the caller owns. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The sink's metrics. Counters are per topic; durations in seconds, as Prometheus expects. */
export interface SinkMetrics {
  readonly registry: Registry;
  /** Records read from Kafka (outbox and ignored ones). */
  readonly consumed: Counter<'topic'>;
  /** Outbox records at least one of whose actions changed Redis. */
  readonly applied: Counter<'topic'>;
  /** Outbox records that changed nothing: an equal or newer version was already there (or in the batch). */
  readonly staleSkipped: Counter<'topic'>;
  /** Records sent to the dead-letter topic, by error code. */
  readonly deadLettered: Counter<'topic' | 'code'>;
  /** Records on non-outbox topics (heartbeats), skipped. */
  readonly ignored: Counter<'topic'>;
  /** Retries after an outage (Redis, registry, dead-letter producer), by what failed. */
  readonly retries: Counter<'stage'>;
  /** Duration of one decode + map + coalesce + apply of a chunk of records, seconds. */
  readonly batchApplySeconds: Histogram;
  /** Commit-to-apply staleness: apply time minus the record timestamp (occurred_at), seconds. */
  readonly stalenessSeconds: Histogram;
}

/**
 * Creates the sink's metrics on `registry` (a fresh one by default, so tests and several sinks in
 * one process never collide), with the process's default metrics (memory, CPU, event loop).
 */
export function createSinkMetrics(registry: Registry = new Registry()): SinkMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'outbox_sink_' });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    consumed: counter('outbox_sink_records_consumed_total', 'Records read from Kafka', ['topic']),
    applied: counter('outbox_sink_records_applied_total', 'Outbox records that changed Redis', ['topic']),
    staleSkipped: counter('outbox_sink_records_stale_skipped_total', 'Outbox records superseded by an equal or newer version', ['topic']),
    deadLettered: counter('outbox_sink_records_dead_lettered_total', 'Records sent to the dead-letter topic', ['topic', 'code']),
    ignored: counter('outbox_sink_records_ignored_total', 'Records on non-outbox topics (e.g. Debezium heartbeats)', ['topic']),
    retries: counter('outbox_sink_retries_total', 'Retries while a dependency is unavailable', ['stage']),
    batchApplySeconds: new Histogram({
      name: 'outbox_sink_batch_apply_seconds', help: 'Decode + map + coalesce + apply of one chunk of records',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry],
    }),
    stalenessSeconds: new Histogram({
      name: 'outbox_sink_commit_to_apply_seconds', help: 'Time from the record timestamp (occurred_at) to its apply in Redis',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [registry],
    }),
  };
}
