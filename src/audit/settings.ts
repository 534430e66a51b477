/**
 * Settings of `outbox-cache audit`, of the audit embedded in `outbox-cache run`, and of
 * `outbox-cache audit sample`. Kafka, Schema Registry, Redis, mapping and cache settings are the
 * sink's own entries (same names, same validation), so one environment serves the sink and its
 * auditor; only the AUDIT_* settings are new. Every problem is reported at once.
 */
import { z } from 'zod';
import { fields, parseSettingsWith, setting, type Setting, type SettingsValue } from '../config/settings.js';
import {
  KAFKA_SECURITY_SETTINGS, SINK_SETTINGS, cacheTtlProblems, kafkaSecurityProblems, redisUrlProblems, registryAuthProblems, subscriptionPattern,
} from '../config/sink.js';
import { createRouting, unroutableTopics } from '../sink/routing.js';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { parseDuration } from '../cli/commands/outbox-purge.js';

const MAX_DELAY_MS = 3_600_000;

/** `1s,10s,60s` → [1000, 10000, 60000], ascending, distinct, each in (0, 1 h]. */
const delaysSchema = z.string().optional().transform((text, ctx) => {
  if (text === undefined) return undefined;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  const delays = items.map(parseDuration);
  if (items.length === 0 || delays.some((d) => d === undefined || d <= 0 || d > MAX_DELAY_MS)) {
    ctx.addIssue({ code: 'custom', message: 'must list delays such as 1s,10s,60s (units ms, s, m; each above 0 and at most 60m)' });
    return z.NEVER;
  }
  const sorted = [...new Set(delays as number[])].sort((a, b) => a - b);
  if (sorted.length !== items.length) ctx.addIssue({ code: 'custom', message: 'must not repeat a delay' });
  return sorted;
});

/** The AUDIT_* settings shared by the standalone and the embedded auditor. */
export const AUDIT_CHECK_SETTINGS = {
  delays: setting({ env: 'AUDIT_DELAYS', flag: 'delays', schema: delaysSchema, doc: 'delays after each commit at which its keys are checked, e.g. 1s,10s,60s (ms, s or m)' }),
  sampleRate: setting({
    env: 'AUDIT_SAMPLE_RATE', flag: 'sample-rate', doc: 'fraction of events audited, above 0 and at most 1 (default 1)',
    schema: z.string().default('1').refine((s) => /^(0(\.[0-9]+)?|1(\.0+)?)$/.test(s) && Number(s) > 0, 'must be a number above 0 and at most 1').transform(Number),
  }),
  maxPending: setting({ env: 'AUDIT_MAX_PENDING', flag: 'max-pending', schema: fields.int(100_000, 100, 10_000_000), doc: 'most checks held in memory; reading pauses beyond (default 100000)' }),
  lateAfterMs: setting({ env: 'AUDIT_LATE_AFTER_MS', flag: 'late-after-ms', schema: fields.int(10_000, 0, 86_400_000), doc: 'a check read more than this after its due time is done at once and counted late, ms (default 10000)' }),
  windowMs: setting({ env: 'AUDIT_WINDOW_MS', flag: 'window-ms', schema: fields.int(300_000, 10_000, 86_400_000), doc: 'sliding window of the nines, ms (default 300000)' }),
  summaryIntervalMs: setting({ env: 'AUDIT_SUMMARY_INTERVAL_MS', flag: 'summary-interval-ms', schema: fields.int(60_000, 0, 86_400_000), doc: 'how often a summary line is logged, ms; 0 never (default 60000)' }),
  recentLimit: setting({ env: 'AUDIT_RECENT_LIMIT', flag: 'recent-limit', schema: fields.int(100, 0, 100_000), doc: 'inconsistent keys kept for the summary and the report (default 100)' }),
  repair: setting({ env: 'AUDIT_REPAIR', flag: 'repair', schema: fields.bool(false), doc: 'write a tombstone at the event version over an inconsistent key, through the guard (default false)' }),
  report: setting({ env: 'AUDIT_REPORT', flag: 'report', schema: fields.optional(), doc: 'file the JSON report (figures and last inconsistent keys) is written to on stop' }),
} as const;

/** Every setting of `outbox-cache audit`. */
export const AUDIT_SETTINGS = {
  ...AUDIT_CHECK_SETTINGS,
  delays: setting({ ...AUDIT_CHECK_SETTINGS.delays, doc: 'delays after each commit at which its keys are checked, e.g. 1s,10s,60s (default 1s,10s,60s)', schema: delaysSchema.transform((d) => d ?? [1000, 10_000, 60_000]) }),
  brokers: SINK_SETTINGS.brokers,
  clientId: setting({ ...SINK_SETTINGS.clientId, schema: fields.text('outbox-cache-audit'), doc: 'Kafka client id (default outbox-cache-audit)' }),
  groupId: setting({ ...SINK_SETTINGS.groupId, schema: fields.text('outbox-cache-audit'), doc: 'consumer group of the auditor, never the sink\'s (default outbox-cache-audit)' }),
  topics: SINK_SETTINGS.topics,
  topicPattern: SINK_SETTINGS.topicPattern,
  topicRefreshMs: SINK_SETTINGS.topicRefreshMs,
  routingPattern: SINK_SETTINGS.routingPattern,
  subjectStrategy: SINK_SETTINGS.subjectStrategy,
  fromBeginning: SINK_SETTINGS.fromBeginning,
  sessionTimeoutMs: SINK_SETTINGS.sessionTimeoutMs,
  fetchMaxBytes: SINK_SETTINGS.fetchMaxBytes,
  fetchMaxBytesPerPartition: SINK_SETTINGS.fetchMaxBytesPerPartition,
  concurrency: SINK_SETTINGS.concurrency,
  ...KAFKA_SECURITY_SETTINGS,
  registryUrl: SINK_SETTINGS.registryUrl,
  registryUser: SINK_SETTINGS.registryUser,
  registryPassword: SINK_SETTINGS.registryPassword,
  redisUrl: SINK_SETTINGS.redisUrl,
  redisCluster: SINK_SETTINGS.redisCluster,
  redisUsername: SINK_SETTINGS.redisUsername,
  redisPassword: SINK_SETTINGS.redisPassword,
  redisTlsRejectUnauthorized: SINK_SETTINGS.redisTlsRejectUnauthorized,
  keyPrefix: SINK_SETTINGS.keyPrefix,
  namespaces: SINK_SETTINGS.namespaces,
  mappingModule: SINK_SETTINGS.mappingModule,
  entryTtlMs: SINK_SETTINGS.entryTtlMs,
  negativeTtlMs: SINK_SETTINGS.negativeTtlMs,
  tombstoneTtlMs: SINK_SETTINGS.tombstoneTtlMs,
  retryMaxDelayMs: SINK_SETTINGS.retryMaxDelayMs,
  metricsPort: setting({ ...SINK_SETTINGS.metricsPort, schema: fields.int(9465, 0, 65_535), doc: 'port of /metrics, /healthz and /readyz (default 9465; 0 picks a free port)' }),
  metricsHost: SINK_SETTINGS.metricsHost,
  logLevel: SINK_SETTINGS.logLevel,
} as const;

/**
 * The settings `outbox-cache run` adds for its embedded audit: the AUDIT_* settings. Its metrics
 * are served with the relay's, on the relay's METRICS_PORT.
 */
export const EMBEDDED_AUDIT_SETTINGS = {
  ...AUDIT_CHECK_SETTINGS,
} as const;

/** The validated `outbox-cache audit` configuration. */
export type AuditConfig = SettingsValue<typeof AUDIT_SETTINGS>;

/** The validated AUDIT_* settings of the embedded audit (`delays` undefined: audit off). */
export type EmbeddedAuditConfig = SettingsValue<typeof EMBEDDED_AUDIT_SETTINGS>;

/** Parses `outbox-cache audit`'s settings; one ConfigError lists every problem. */
export function parseAuditConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): AuditConfig {
  return parseSettingsWith(AUDIT_SETTINGS, env, argv, (c) => {
    // The shared settings first: a check that reads a setting that did not parse ends the checks.
    const problems: ConfigProblem[] = [];
    if (c.topics && c.topicPattern) problems.push({ setting: 'KAFKA_TOPICS', message: 'set KAFKA_TOPICS or KAFKA_TOPIC_PATTERN, not both' });
    problems.push(...kafkaSecurityProblems(c), ...registryAuthProblems(c), ...redisUrlProblems(c), ...cacheTtlProblems(c));
    for (const u of unroutableTopics(c.topics ?? [], createRouting(c.routingPattern, c.subjectStrategy))) {
      problems.push({ setting: 'KAFKA_TOPICS', message: `${u.reason} (ROUTING_TOPIC_PATTERN)` });
    }
    if (c.groupId === SINK_SETTINGS.groupId.schema.parse(undefined)) {
      problems.push({ setting: 'KAFKA_GROUP_ID', message: 'must not be the sink\'s default group: the auditor needs a consumer group of its own' });
    }
    problems.push(...checkProblems(c));
    return problems;
  });
}

/** The topics `outbox-cache audit` subscribes to, as the sink would. */
export function auditTopics(c: Pick<AuditConfig, 'topics' | 'topicPattern' | 'routingPattern'>): (string | RegExp)[] {
  return c.topics ? [...c.topics] : [new RegExp(subscriptionPattern(c))];
}

/** Parses the AUDIT_* settings of `outbox-cache run` (its other settings are the relay's). */
export function parseEmbeddedAuditConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): EmbeddedAuditConfig {
  return parseSettingsWith(EMBEDDED_AUDIT_SETTINGS, env, argv, checkProblems);
}

function checkProblems(c: Pick<AuditConfig, 'windowMs'> & { readonly delays?: readonly number[] }): ConfigProblem[] {
  // Settings that did not parse are absent (and reported already): check only what parsed.
  if (!('delays' in c) || !('windowMs' in c)) return [];
  const longest = c.delays?.at(-1) ?? 0;
  return longest > 0 && c.windowMs < longest ? [{ setting: 'AUDIT_WINDOW_MS', message: 'must be at least the longest delay' }] : [];
}

/**
 * Splits command-line arguments between the flags of `table` and the rest, so a command can
 * parse its own settings and hand the others to another parser (`run` and its embedded audit).
 */
export function splitArgv(argv: readonly string[], table: Record<string, Setting<unknown>>): { own: string[]; rest: string[] } {
  const flags = new Set(Object.values(table).map((s) => s.flag));
  const own: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const name = /^--([a-z0-9-]+)/.exec(arg)?.[1];
    const target = name !== undefined && flags.has(name) ? own : rest;
    target.push(arg);
    const next = argv[i + 1];
    if (name !== undefined && !arg.includes('=') && next !== undefined && !next.startsWith('--')) target.push((i++, next));
  }
  return { own, rest };
}

/**
 * Runs two settings parsers and reports the problems of both in one ConfigError (a command whose
 * settings come from two tables, such as `run` with its embedded audit).
 */
export function parseBoth<A, B>(first: () => A, second: () => B): [A, B] {
  const problems: ConfigProblem[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };
  const a = attempt(first);
  const b = attempt(second);
  if (problems.length > 0) throw new ConfigError(problems);
  return [a as A, b as B];
}
