/**
 * Static checks of the dashboards/ folder and the compose profile `observability`: the Grafana
 * dashboard and the alert rules parse, name only metrics the code registers (the sink's from its
 * registry, the relay's and the auditor's from theirs), cover
 * what operators need, and the profile mounts and points at what exists.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAuditMetrics } from '../../src/audit/metrics.js';
import { createSinkMetrics } from '../../src/ops/metrics.js';
import { createRelayMetrics } from '../../src/relay/metrics.js';
import { ROOT, asList, dependencies, loadCompose, serviceEnv, type ComposeService } from '../deploy/compose-model.js';
import { parse as parseYaml } from 'yaml';

interface Panel { type: string; id: number; title: string; targets?: { expr: string }[]; datasource?: { uid: string } }
const dashboard = JSON.parse(readFileSync(join(ROOT, 'dashboards/outbox-cache.json'), 'utf8')) as {
  uid: string; panels: Panel[]; templating: { list: { name: string; query: string }[] };
};
type Rule = { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string; description: string } };
const alerts = parseYaml(readFileSync(join(ROOT, 'dashboards/alerts.yml'), 'utf8')) as unknown as { groups: { name: string; rules: Rule[] }[] };
const rules = alerts.groups.flatMap((g) => g.rules);
const compose = loadCompose();
const service = (name: string): ComposeService => {
  const s = compose.services[name];
  if (!s) throw new Error(`no service ${name}`);
  return s;
};

/** Metric families an expression reads (histogram series mapped to their family). */
function metricsIn(expr: string): string[] {
  return [...expr.matchAll(/\b(outbox_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

const sinkNames = new Set((createSinkMetrics().registry.getMetricsAsArray()).map((m) => m.name));
const relayNames = new Set((createRelayMetrics().registry.getMetricsAsArray()).map((m) => m.name));
const auditNames = new Set((createAuditMetrics().registry.getMetricsAsArray()).map((m) => m.name));
const used = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...rules.map((r) => r.expr)].flatMap(metricsIn);

describe('dashboards', () => {
  it('name only metrics the sink registers', () => {
    const sink = used.filter((n) => n.startsWith('outbox_sink_'));
    expect(sink.length).toBeGreaterThan(5);
    for (const name of sink) expect(sinkNames, name).toContain(name);
  });

  it('name only metrics the relay registers', () => {
    const relay = used.filter((n) => n.startsWith('outbox_relay_'));
    expect(relay.length).toBeGreaterThan(3);
    for (const name of relay) expect(relayNames, name).toContain(name);
  });

  it('name only metrics the auditor registers', () => {
    const audit = used.filter((n) => n.startsWith('outbox_audit_'));
    expect(audit.length).toBeGreaterThan(2);
    for (const name of audit) expect(auditNames, name).toContain(name);
  });

  it('has one dashboard with unique panel ids, a query per panel and the panels operators need', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    for (const p of graphs) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid, p.title).toBe('${datasource}');
    }
    const titles = graphs.map((p) => p.title.toLowerCase()).join('\n');
    for (const topic of ['throughput', 'lag', 'staleness histogram', 'dead letters by code', 'retries', 'nines']) expect(titles).toContain(topic);
    expect(graphs.some((p) => p.type === 'heatmap')).toBe(true);
  });

  it('has alert rules for a sink not ready, staleness p99, dead letters and the auditor below its nines', () => {
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^OutboxCache[A-Za-z0-9]+$/);
      expect(['critical', 'warning']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(0);
    }
    const byName = new Map(rules.map((r) => [r.alert, r.expr]));
    expect(byName.get('OutboxCacheSinkNotReady')).toContain('outbox_sink_retries_total');
    expect(byName.get('OutboxCacheStalenessP99High')).toMatch(/histogram_quantile\(0\.99, .*outbox_sink_commit_to_apply_seconds_bucket/);
    expect(byName.get('OutboxCacheDeadLetters')).toContain('outbox_sink_records_dead_lettered_total');
    expect(byName.get('OutboxCacheBelowNines')).toContain('outbox_audit_nines');
  });
});

describe('compose profile observability', () => {
  it('runs Prometheus and Grafana only in that profile, with pinned images', () => {
    for (const name of ['prometheus', 'grafana']) {
      expect((service(name) as { profiles?: string[] }).profiles).toEqual(['observability']);
      expect(service(name).image).toMatch(/:v?\d+\.\d+\.\d+$/);
    }
    const others = Object.entries(compose.services).filter(([n]) => n !== 'prometheus' && n !== 'grafana');
    for (const [name, s] of others) expect((s as { profiles?: string[] }).profiles, name).toBeUndefined();
    expect(dependencies(service('grafana'))).toEqual([['prometheus', 'service_healthy']]);
  });

  it('gives Prometheus the rules and a scrape job per dashboard job, aimed at the sink\'s metrics port', () => {
    const config = parseYaml(readFileSync(join(ROOT, 'dashboards/prometheus.yml'), 'utf8')) as unknown as {
      rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const mounts = new Map((service('prometheus').volumes ?? []).map((v) => v.split(':') as [string, string, string]).map(([src, dst]) => [dst, src]));
    expect(mounts.get('/etc/prometheus/prometheus.yml')).toBe('./dashboards/prometheus.yml');
    for (const file of config.rule_files) expect(mounts.get(file), file).toBe('./dashboards/alerts.yml');
    const sinkJob = config.scrape_configs.find((j) => j.job_name === 'outbox-cache-sink');
    expect(sinkJob?.static_configs[0]?.targets).toEqual([`sink:${serviceEnv(service('sink')).METRICS_PORT}`]);
    const jobs = dashboard.templating.list.filter((v) => v.name.endsWith('_job')).map((v) => v.query);
    expect(jobs).toContain('outbox-cache-sink');
    for (const rule of rules) for (const job of [...rule.expr.matchAll(/job="([^"]+)"/g)].map((m) => m[1]!)) expect(jobs).toContain(job);
  });

  it('provisions Grafana with that Prometheus and the dashboard folder', () => {
    const volumes = new Map((service('grafana').volumes ?? []).map((v) => v.split(':') as [string, string, string]).map(([src, dst]) => [dst, src]));
    expect(volumes.get('/etc/grafana/provisioning')).toBe('./dashboards/grafana/provisioning');
    const datasources = parseYaml(readFileSync(join(ROOT, 'dashboards/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as unknown as {
      datasources: { url: string; type: string }[];
    };
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(asList(service('prometheus').ports)).toContain('127.0.0.1:9090:9090');
    const providers = parseYaml(readFileSync(join(ROOT, 'dashboards/grafana/provisioning/dashboards/outbox-cache.yml'), 'utf8')) as unknown as {
      providers: { options: { path: string } }[];
    };
    const path = providers.providers[0]!.options.path;
    expect(volumes.get(path)).toBe('./dashboards');
    expect(serviceEnv(service('grafana')).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${path}/outbox-cache.json`);
  });
});
