/**
 * Prometheus metrics of the auditor (prom-client), on a registry the caller owns: the standalone
 * `outbox-cache audit` creates its own; the embedded audit of `outbox-cache run` can share the
 * relay's. Every value is read from the auditor at scrape time.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditSummary, DelaySummary } from './auditor.js';

/** The auditor's metrics. `delay` labels read like the configuration: `1s`, `500ms`, `2m`. */
export interface AuditMetrics {
  readonly registry: Registry;
  /** Sets where every metric reads from (the auditor's summary), at scrape time. */
  observe(source: () => AuditSummary): void;
}

/**
 * Creates the auditor's metrics on `registry` (a fresh one by default, with the process's default
 * metrics; pass a shared registry to add them next to another component's). Every value is read
 * from the auditor's own counts when scraped, so checking costs nothing per check here.
 */
export function createAuditMetrics(registry?: Registry): AuditMetrics {
  const own = registry ?? new Registry();
  if (!registry) collectDefaultMetrics({ register: own, prefix: 'outbox_audit_' });
  let source: (() => AuditSummary) | undefined;
  const registers = [own];
  type Setter = (set: (labels: Record<string, string>, value: number) => void, s: AuditSummary) => void;
  const metric = (kind: 'counter' | 'gauge', name: string, help: string, labelNames: string[], fill: Setter): void => {
    const collect = function (this: Gauge<string> | Counter<string>): void {
      const s = source?.();
      this.reset();
      if (!s) return;
      fill((labels, value) => (this instanceof Gauge ? this.set(labels, value) : this.inc(labels, value)), s);
    };
    if (kind === 'gauge') new Gauge({ name, help, labelNames, registers, collect });
    else new Counter({ name, help, labelNames, registers, collect });
  };
  const perDelay = (kind: 'counter' | 'gauge', name: string, help: string, pick: (d: DelaySummary) => number | undefined): void =>
    metric(kind, name, help, ['delay'], (set, s) => {
      for (const d of s.delays) {
        const value = pick(d);
        if (value !== undefined) set({ delay: d.delay }, value);
      }
    });
  metric('counter', 'outbox_audit_checks_total', 'Checks done, by delay and result (consistent | inconsistent)', ['delay', 'result'], (set, s) => {
    for (const d of s.delays) {
      set({ delay: d.delay, result: 'consistent' }, d.checks - d.inconsistent);
      set({ delay: d.delay, result: 'inconsistent' }, d.inconsistent);
    }
  });
  perDelay('counter', 'outbox_audit_late_checks_total', 'Checks already overdue by more than AUDIT_LATE_AFTER_MS when their event was read', (d) => d.late);
  perDelay('gauge', 'outbox_audit_nines', 'Nines of consistency per delay over the sliding window: -log10(1 - consistent fraction), capped at log10(checks)', (d) => d.window.nines);
  perDelay('gauge', 'outbox_audit_consistent_ratio', 'Fraction of checks consistent per delay over the sliding window', (d) => d.window.fraction);
  perDelay('gauge', 'outbox_audit_window_checks', 'Checks per delay in the sliding window', (d) => d.window.checks);
  perDelay('gauge', 'outbox_audit_window_inconsistent', 'Inconsistent checks per delay in the sliding window', (d) => d.window.inconsistent);
  metric('counter', 'outbox_audit_inconsistent_keys_total', 'Event keys found inconsistent (once per event key, at the first delay that found it)', [], (set, s) => set({}, s.inconsistentKeys));
  metric('counter', 'outbox_audit_events_total', 'Events read, by outcome (audited, sampled_out, no_keys, unauditable, dropped)', ['outcome'], (set, s) => {
    for (const [outcome, n] of Object.entries(s.outcomes)) set({ outcome }, n);
  });
  metric('counter', 'outbox_audit_repairs_total', 'Repairs (tombstone at the event version through the guard), by outcome (applied, stale)', ['outcome'], (set, s) => {
    for (const [outcome, n] of Object.entries(s.repairs)) set({ outcome }, n);
  });
  metric('counter', 'outbox_audit_read_errors_total', 'Failed Redis reads (each retried)', [], (set, s) => set({}, s.readErrors));
  metric('gauge', 'outbox_audit_scheduled_checks', 'Checks waiting for their time or ready to run (bounded by AUDIT_MAX_PENDING)', [], (set, s) => set({}, s.scheduled));
  metric('gauge', 'outbox_audit_lag_seconds', 'Now minus the commit time of the newest event read: how far behind the auditor reads', [], (set, s) => {
    if (s.lagMs !== undefined) set({}, s.lagMs / 1000);
  });
  return {
    registry: own,
    observe(fn) {
      source = fn;
    },
  };
}
