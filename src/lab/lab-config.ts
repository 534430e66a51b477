/**
 * Options of `outbox-cache lab` (and its alias `outbox-cache demo`), through the project's
 * settings parser: every problem reported at once, flags win over environment variables.
 */
import { z } from 'zod';
import { fields, parseSettingsWith, setting, type SettingsValue } from '../config/settings.js';
import type { ConfigProblem } from '../errors.js';
import { parseDemoDuration } from '../demo/demo-config.js';
import { FAULT_KINDS, parseFaultKinds, type FaultKind } from './faults.js';
import { STRATEGY_NAMES } from './strategies/index.js';

const duration = (fallback: string, minMs: number) =>
  z.string().default(fallback)
    .transform((s) => parseDemoDuration(s) ?? NaN)
    .refine((ms) => Number.isFinite(ms) && ms >= minMs, `must be a duration of at least ${minMs / 1000} s, e.g. 30s, 2m`);

/** Settings of `outbox-cache lab`. */
export const LAB_SETTINGS = {
  duration: setting({ env: 'LAB_DURATION', flag: 'duration', schema: duration('30s', 5000), doc: 'how long writers and readers run, e.g. 30s, 2m (default 30s; then about 11 s of settling and checks)' }),
  strategies: setting({
    env: 'LAB_STRATEGIES', flag: 'strategies',
    schema: fields.list('strategies', 'all').superRefine((names, ctx) => {
      const unknown = names.filter((s) => s !== 'all' && !STRATEGY_NAMES.includes(s));
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown strategies ${unknown.join(', ')}; known: ${STRATEGY_NAMES.join(', ')}` });
    }),
    doc: `comma-separated subset of: ${STRATEGY_NAMES.join(', ')} (default all)` }),
  faults: setting({
    env: 'LAB_FAULTS', flag: 'faults',
    schema: fields.text('all').superRefine((text, ctx) => {
      const { unknown } = parseFaultKinds(text);
      if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `unknown faults ${unknown.join(', ')}; known: all, none, ${FAULT_KINDS.join(', ')}` });
    }),
    doc: `all, none, or a comma-separated subset of: ${FAULT_KINDS.join(', ')} (default all)` }),
  replica: setting({ env: 'LAB_REPLICA', flag: 'replica', schema: fields.bool(false), doc: 'start a MariaDB replica delayed by --replica-delay-s, read by every reader during the replica-reads fault (default false)' }),
  replicaDelayS: setting({ env: 'LAB_REPLICA_DELAY_S', flag: 'replica-delay-s', schema: fields.int(1, 1, 60), doc: 'MASTER_DELAY of the replica, seconds (default 1)' }),
  writers: setting({ env: 'LAB_WRITERS', flag: 'writers', schema: fields.int(2, 1, 32), doc: 'writers per strategy (default 2)' }),
  readers: setting({ env: 'LAB_READERS', flag: 'readers', schema: fields.int(4, 1, 64), doc: 'readers per strategy (default 4)' }),
  keys: setting({ env: 'LAB_KEYS', flag: 'keys', schema: fields.int(50, 2, 100_000), doc: 'items per strategy (default 50)' }),
  hotKeys: setting({ env: 'LAB_HOT_KEYS', flag: 'hot-keys', schema: fields.int(5, 1, 100_000), doc: 'how many of the items are hot (default 5)' }),
  hotPercent: setting({ env: 'LAB_HOT_PERCENT', flag: 'hot-percent', schema: fields.int(80, 0, 100), doc: 'share of reads and writes that go to hot items, % (default 80)' }),
  fillDelayMs: setting({ env: 'LAB_FILL_DELAY_MS', flag: 'fill-delay-ms', schema: fields.int(50, 0, 10_000), doc: 'readers pause a random 0..N ms between their database read and their cache fill (default 50)' }),
  writePauseMs: setting({ env: 'LAB_WRITE_PAUSE_MS', flag: 'write-pause-ms', schema: fields.int(40, 1, 60_000), doc: 'mean pause of a writer between writes, ms (default 40)' }),
  readPauseMs: setting({ env: 'LAB_READ_PAUSE_MS', flag: 'read-pause-ms', schema: fields.int(10, 1, 60_000), doc: 'mean pause of a reader between reads, ms (default 10)' }),
  doubleDeleteSleepMs: setting({ env: 'LAB_DOUBLE_DELETE_SLEEP_MS', flag: 'double-delete-sleep-ms', schema: fields.int(500, 1, 60_000), doc: 'delayed double delete: sleep before the second delete, ms (default 500)' }),
  ttlOnlyMs: setting({ env: 'LAB_TTL_ONLY_MS', flag: 'ttl-only-ms', schema: fields.int(5000, 100, 3_600_000), doc: 'TTL-only: entry TTL, ms (default 5000)' }),
  writeBehindFlushMs: setting({ env: 'LAB_WRITE_BEHIND_FLUSH_MS', flag: 'write-behind-flush-ms', schema: fields.int(500, 10, 60_000), doc: 'write-behind: flush interval, ms (default 500)' }),
  lockTtlMs: setting({ env: 'LAB_LOCK_TTL_MS', flag: 'lock-ttl-ms', schema: fields.int(2000, 10, 60_000), doc: 'locked write-through: lock TTL, ms (default 2000)' }),
  mqRetryMs: setting({ env: 'LAB_MQ_RETRY_MS', flag: 'mq-retry-ms', schema: fields.int(100, 1, 60_000), doc: 'MQ-retried delete: pause before a failed delete is retried, ms (default 100)' }),
  json: setting({ env: 'LAB_JSON', flag: 'json', schema: fields.optional(), doc: 'also write the results as JSON to this file' }),
  report: setting({ env: 'LAB_REPORT', flag: 'report', schema: fields.optional(), doc: 'HTML report file (default outbox-cache-lab-<time>.html in the working directory)' }),
  mysqlUrl: setting({
    env: 'LAB_MYSQL_URL', flag: 'mysql-url', secret: true, schema: fields.optional(),
    doc: 'use this MariaDB (binlog ROW/FULL, a user that may create databases and replicate) instead of starting one; the lab works in a database of its own and drops it',
  }),
} as const;

/** Validated options of `outbox-cache lab`. */
export type LabConfig = Omit<SettingsValue<typeof LAB_SETTINGS>, 'faults' | 'duration'> & {
  readonly duration: number;
  readonly faults: ReadonlySet<FaultKind>;
};

/** Parses the lab's options; throws one ConfigError listing every problem. */
export function parseLabConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[]): LabConfig {
  const parsed = parseSettingsWith(LAB_SETTINGS, env, argv, (c) => {
    const problems: ConfigProblem[] = [];
    if (c.hotKeys > c.keys) problems.push({ setting: '--hot-keys', message: `must not exceed --keys (${c.keys})` });
    return problems;
  });
  const faults = parseFaultKinds(parsed.faults).kinds;
  const strategies = parsed.strategies.includes('all') ? [...STRATEGY_NAMES] : parsed.strategies;
  return Object.freeze({ ...parsed, strategies, faults, duration: parsed.duration as number });
}
