/**
 * Prometheus metrics of the auditor (prom-client), on a registry the caller owns: the standalone
 * `outbox-cache audit` creates its own; the embedded audit of `outbox-cache run` can share the
 * relay's. Counters are counted as checks finish; gauges are read from the auditor at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditSummary } from './auditor.js';

/** The auditor's metrics. `delay` labels read like the configuration: `1s`, `500ms`, `2m`. */
export interface AuditMetrics {
  readonly registry: Registry;
  /** Checks done, by delay and result (consistent | inconsistent). */
  readonly checks: Counter<'delay' | 'result'>;
  /** Checks that were already overdue by more than the late bound when their event arrived. */
  readonly late: Counter<'delay'>;
  /** Event keys found inconsistent (each counted once, at the first delay that found it). */
  readonly inconsistentKeys: Counter;
  /** Repairs: tombstone written (applied), or a newer state was already there (stale). */
  readonly repairs: Counter<'outcome'>;
  /** Events read, by outcome: audited, sampled_out, no_keys, unauditable, dropped. */
  readonly events: Counter<'outcome'>;
  /** Failed Redis reads (each retried). */
  readonly readErrors: Counter;
  /** Read time minus commit time of each check, seconds. */
  readonly checkLagSeconds: Histogram<'delay'>;
  /** Sets where the gauges read from (the auditor's summary). */
  observe(source: () => AuditSummary): void;
}

/**
 * Creates the auditor's metrics on `registry` (a fresh one by default, with the process's default
 * metrics; pass a shared registry to add them next to another component's).
 */
export function createAuditMetrics(registry?: Registry): AuditMetrics {
  const own = registry ?? new Registry();
  if (!registry) collectDefaultMetrics({ register: own, prefix: 'outbox_audit_' });
  let source: (() => AuditSummary) | undefined;
  const registers = [own];
  const perDelay = (name: string, help: string, pick: (d: AuditSummary['delays'][number]) => number | undefined): void => {
    new Gauge({
      name, help, labelNames: ['delay'], registers,
      collect() {
        this.reset();
        for (const d of source?.().delays ?? []) {
          const value = pick(d);
          if (value !== undefined) this.set({ delay: d.delay }, value);
        }
      },
    });
  };
  perDelay('outbox_audit_nines', 'Nines of consistency per delay over the sliding window: -log10(1 - consistent fraction), capped at log10(checks)', (d) => d.window.nines);
  perDelay('outbox_audit_consistent_ratio', 'Fraction of checks consistent per delay over the sliding window', (d) => d.window.fraction);
  perDelay('outbox_audit_window_checks', 'Checks per delay in the sliding window', (d) => d.window.checks);
  perDelay('outbox_audit_window_inconsistent', 'Inconsistent checks per delay in the sliding window', (d) => d.window.inconsistent);
  new Gauge({
    name: 'outbox_audit_scheduled_checks', help: 'Checks waiting for their time or ready to run (bounded by AUDIT_MAX_PENDING)', registers,
    collect() {
      this.set(source?.().scheduled ?? 0);
    },
  });
  new Gauge({
    name: 'outbox_audit_lag_seconds', help: 'Now minus the commit time of the newest event read: how far behind the auditor reads', registers,
    collect() {
      const lag = source?.().lagMs;
      if (lag !== undefined) this.set(lag / 1000);
    },
  });
  return {
    registry: own,
    checks: new Counter({ name: 'outbox_audit_checks_total', help: 'Checks done, by delay and result', labelNames: ['delay', 'result'], registers }),
    late: new Counter({ name: 'outbox_audit_late_checks_total', help: 'Checks already overdue by more than AUDIT_LATE_AFTER_MS when their event was read', labelNames: ['delay'], registers }),
    inconsistentKeys: new Counter({ name: 'outbox_audit_inconsistent_keys_total', help: 'Event keys found inconsistent (once per event key)', registers }),
    repairs: new Counter({ name: 'outbox_audit_repairs_total', help: 'Repairs (tombstone at the event version through the guard), by outcome', labelNames: ['outcome'], registers }),
    events: new Counter({ name: 'outbox_audit_events_total', help: 'Events read, by outcome', labelNames: ['outcome'], registers }),
    readErrors: new Counter({ name: 'outbox_audit_read_errors_total', help: 'Failed Redis reads (retried)', registers }),
    checkLagSeconds: new Histogram({
      name: 'outbox_audit_check_lag_seconds', help: 'Read time minus commit time of each check', labelNames: ['delay'], registers,
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
    }),
    observe(fn) {
      source = fn;
    },
  };
}
