/**
 * Settings of `outbox-cache audit sample`: Redis and the key prefix are the sink's settings, the
 * database is MYSQL_URL, and AUDIT_SAMPLE_* say which namespaces to sample, how to read a row's
 * version, and how fast. Every problem is reported at once.
 */
import { z } from 'zod';
import { fields, parseSettingsWith, setting, type SettingsValue } from '../config/settings.js';
import { SINK_SETTINGS, cacheTtlProblems, redisUrlProblems } from '../config/sink.js';
import { AUDIT_CHECK_SETTINGS } from './settings.js';

const NAMESPACE = /^[A-Za-z0-9_.-]+$/;

/** `{"product": "SELECT version FROM product WHERE id = ?"}`: per namespace, a query of one row's version. */
const queriesSchema = z.string({ error: 'AUDIT_SAMPLE_QUERIES is required' }).transform((text, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of namespace → SQL, e.g. {"product":"SELECT version FROM product WHERE id = ?"}' });
    return z.NEVER;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.keys(parsed).length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must be a non-empty JSON object of namespace → SQL' });
    return z.NEVER;
  }
  for (const [namespace, sql] of Object.entries(parsed)) {
    if (!NAMESPACE.test(namespace)) ctx.addIssue({ code: 'custom', message: `namespace '${namespace}' must be letters, digits, _ . -` });
    if (typeof sql !== 'string' || !/^\s*select\s/i.test(sql) || sql.split('?').length !== 2) {
      ctx.addIssue({ code: 'custom', message: `query of '${namespace}' must be one SELECT with exactly one ? (the id), returning the version first` });
    }
  }
  return parsed as Record<string, string>;
});

/** Every setting of `outbox-cache audit sample`. */
export const SAMPLE_SETTINGS = {
  queries: setting({ env: 'AUDIT_SAMPLE_QUERIES', flag: 'queries', schema: queriesSchema, doc: 'JSON object: namespace → SELECT of one row\'s version by id, e.g. {"product":"SELECT version FROM product WHERE id = ?"} (required)' }),
  mysqlUrl: setting({
    env: 'MYSQL_URL', flag: 'mysql-url', secret: true, doc: 'mysql://user:password@host:3306/database the queries run on; a read-only user is enough (required)',
    schema: fields.url(['mysql:', 'mariadb:'], 'MYSQL_URL'),
  }),
  keysPerSecond: setting({ env: 'AUDIT_SAMPLE_KEYS_PER_S', flag: 'keys-per-s', schema: fields.int(200, 1, 100_000), doc: 'most keys examined per second (Redis and database load) (default 200)' }),
  maxKeys: setting({ env: 'AUDIT_SAMPLE_MAX_KEYS', flag: 'max-keys', schema: fields.int(10_000, 0, 1_000_000_000), doc: 'stop after this many keys per namespace; 0 scans them all (default 10000)' }),
  repair: AUDIT_CHECK_SETTINGS.repair,
  report: AUDIT_CHECK_SETTINGS.report,
  redisUrl: SINK_SETTINGS.redisUrl,
  redisCluster: SINK_SETTINGS.redisCluster,
  redisUsername: SINK_SETTINGS.redisUsername,
  redisPassword: SINK_SETTINGS.redisPassword,
  redisTlsRejectUnauthorized: SINK_SETTINGS.redisTlsRejectUnauthorized,
  keyPrefix: SINK_SETTINGS.keyPrefix,
  entryTtlMs: SINK_SETTINGS.entryTtlMs,
  negativeTtlMs: SINK_SETTINGS.negativeTtlMs,
  tombstoneTtlMs: SINK_SETTINGS.tombstoneTtlMs,
  logLevel: SINK_SETTINGS.logLevel,
} as const;

/** The validated `outbox-cache audit sample` configuration. */
export type SampleConfig = SettingsValue<typeof SAMPLE_SETTINGS>;

/** Parses the settings; one ConfigError lists every problem. */
export function parseSampleConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): SampleConfig {
  return parseSettingsWith(SAMPLE_SETTINGS, env, argv, (c) => [...redisUrlProblems(c), ...cacheTtlProblems(c)]);
}
