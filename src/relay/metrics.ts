/**
 * Prometheus metrics of the embedded relay (prom-client), on a registry the caller owns. Counters
 * of what `apply` did are counted by the apply function; the relay's own counters, positions and
 * lag are read from the running relay at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Relay } from './relay.js';

/** The relay's metrics; durations in seconds. */
export interface RelayMetrics {
  readonly registry: Registry;
  /** Events at least one of whose actions changed Redis (redis mode), or produced (kafka mode). */
  readonly applied: Counter;
  /** Events that changed nothing: an equal or newer version was already there (or in the batch). */
  readonly stale: Counter;
  /** Events skipped because they can never apply (bad payload, mapping error, key of a foreign type), by code. */
  readonly skipped: Counter<'code'>;
  /** Successful `apply` calls. */
  readonly batches: Counter;
  /** Retries while Redis, the registry or Kafka is unavailable. */
  readonly retries: Counter;
  /** Duration of one successful `apply` call. */
  readonly batchApplySeconds: Histogram;
  /** Reads the relay's counters, positions and lag at each scrape from now on. */
  observe(relay: Relay): void;
}

/** Numeric suffix of a binlog file name (`binlog.000042` → 42), for a gauge. */
export function binlogFileNumber(file: string): number {
  const match = /(\d+)$/.exec(file);
  return match?.[1] ? Number(match[1]) : 0;
}

/** Creates the relay's metrics on `registry` (a fresh one by default) with the process's default metrics. */
export function createRelayMetrics(registry: Registry = new Registry()): RelayMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'outbox_relay_' });
  let relay: Relay | undefined;
  const registers = [registry];
  const fromStats = (name: string, help: string, read: (r: Relay) => number): void => {
    new Counter({
      name, help, registers,
      collect() {
        if (!relay) return;
        this.reset();
        this.inc(read(relay));
      },
    });
  };
  fromStats('outbox_relay_transactions_total', 'Committed transactions read from the binlog (own checkpoints excluded)', (r) => r.stats().transactions);
  fromStats('outbox_relay_invalid_rows_total', 'Outbox rows that could not be events (logged at error level)', (r) => r.stats().invalidRows);
  fromStats('outbox_relay_reconnects_total', 'Binlog stream reopened after a loss', (r) => r.stats().reconnects);
  fromStats('outbox_relay_stream_losses_total', 'Binlog stream lost: closed, failed, or silent past the heartbeat deadline', (r) => r.stats().streamLosses);
  fromStats('outbox_relay_lock_retakes_total', 'Relay lock retaken after its connection was lost', (r) => r.lockRetakes());
  new Gauge({
    name: 'outbox_relay_position_offset', help: 'Binlog offset of the applied and of the stored position', labelNames: ['kind'], registers,
    collect() {
      if (!relay) return;
      const { appliedPosition, storedPosition } = relay.stats();
      this.set({ kind: 'applied' }, appliedPosition.position);
      this.set({ kind: 'stored' }, storedPosition.position);
    },
  });
  new Gauge({
    name: 'outbox_relay_position_file_number', help: 'Number of the binlog file of the applied and of the stored position', labelNames: ['kind'], registers,
    collect() {
      if (!relay) return;
      const { appliedPosition, storedPosition } = relay.stats();
      this.set({ kind: 'applied' }, binlogFileNumber(appliedPosition.file));
      this.set({ kind: 'stored' }, binlogFileNumber(storedPosition.file));
    },
  });
  new Gauge({
    name: 'outbox_relay_queued_events', help: 'Events read from the binlog and not yet applied', registers,
    collect() {
      if (relay) this.set(relay.stats().queuedEvents);
    },
  });
  new Gauge({
    name: 'outbox_relay_binlog_lag_seconds', help: 'Now minus the commit time of the last applied transaction (or heartbeat); 1 s resolution',
    registers,
    collect() {
      const at = relay?.stats().appliedTimestampMs;
      if (at !== undefined) this.set(Math.max(0, (Date.now() - at) / 1000));
    },
  });
  new Gauge({
    name: 'outbox_relay_binlog_lag_bytes', help: 'Binlog bytes between the applied position and the end of the server\'s binlog', registers,
    async collect() {
      if (!relay) return;
      // A scrape must not hang on a frozen MySQL: after a second the last value stays.
      let timer: NodeJS.Timeout | undefined;
      const bytes = await Promise.race([
        relay.binlogLagBytes().catch(() => undefined),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 1_000))),
      ]);
      clearTimeout(timer);
      if (bytes !== undefined) this.set(bytes);
    },
  });
  new Gauge({
    name: 'outbox_relay_ready', help: '1 while streaming and not paused on an outage', registers,
    collect() {
      this.set(relay?.stats().state === 'streaming' ? 1 : 0);
    },
  });
  return {
    registry,
    applied: new Counter({ name: 'outbox_relay_events_applied_total', help: 'Events that changed Redis (redis mode) or were produced (kafka mode)', registers }),
    stale: new Counter({ name: 'outbox_relay_events_stale_total', help: 'Events superseded by an equal or newer version', registers }),
    skipped: new Counter({ name: 'outbox_relay_events_skipped_total', help: 'Events that can never apply, skipped and logged', labelNames: ['code'], registers }),
    batches: new Counter({ name: 'outbox_relay_batches_total', help: 'Successful apply calls', registers }),
    retries: new Counter({ name: 'outbox_relay_retries_total', help: 'Apply retries while a dependency is unavailable', registers }),
    batchApplySeconds: new Histogram({
      name: 'outbox_relay_batch_apply_seconds', help: 'Duration of one successful apply call',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    }),
    observe(r) {
      relay = r;
    },
  };
}
