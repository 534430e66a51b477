import { ConfigError, type ConfigProblem } from '../../errors.js';
import { purgeOutbox } from '../../outbox/purge.js';
import { EXIT, type Command } from '../command.js';
import { connectTarget, OUTBOX_TARGET_OPTIONS, outboxTarget, parseCommandArgs } from './migrate.js';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Longest age `--older-than` accepts: the cutoff must stay a valid date (JS dates end in +275760). */
const MAX_AGE_DAYS = 36_500;

/**
 * Parses `30m`, `1h`, `7d`, `45s`, `500ms` into milliseconds; undefined when malformed, zero or
 * longer than 100 years (a cutoff that far back is no valid date).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text.trim());
  if (!match?.[1] || !match[2]) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2]] ?? NaN);
  return ms > 0 && ms <= MAX_AGE_DAYS * 86_400_000 ? ms : undefined;
}

/** `outbox-cache outbox purge`: deletes kept outbox rows older than a given age, in small batches. */
export const outboxPurgeCommand: Command = {
  path: ['outbox', 'purge'],
  summary: 'Delete kept outbox rows older than a given age, in small batches',
  usage: `Usage: outbox-cache outbox purge --older-than DURATION [--batch-size N] [--mysql-url URL] [--table NAME]

Deletes outbox rows (kept by the writer's keep mode) whose occurred_at is older than DURATION,
N rows at a time, each batch its own short autocommit transaction locking only the rows it
deletes. Deleting outbox rows produces no events. Prints the number of rows deleted.

  --older-than DURATION  e.g. 30m, 1h, 7d (units ms, s, m, h, d); required
  --batch-size N         rows per batch, 1..10000 (default 1000)
  --mysql-url URL        mysql://user:password@host:3306/database (env MYSQL_URL)
  --table NAME           outbox table, table or database.table (default outbox)

Exit codes: 0 done (or stopped by a signal), 1 MySQL failed, 2 bad usage.`,
  async run(ctx) {
    const problems: ConfigProblem[] = [];
    const { values } = parseCommandArgs(ctx.argv, {
      ...OUTBOX_TARGET_OPTIONS,
      'older-than': { type: 'string' },
      'batch-size': { type: 'string' },
    } as const, problems);
    const target = outboxTarget(values, ctx.env, problems);
    const olderThanMs = values['older-than'] === undefined ? undefined : parseDuration(values['older-than']);
    if (olderThanMs === undefined) {
      problems.push({ setting: '--older-than', message: `required: a positive duration like 30m, 1h or 7d, at most ${MAX_AGE_DAYS} days` });
    }
    const batchText = values['batch-size'] ?? '1000';
    const batchSize = /^\d{1,5}$/.test(batchText) ? Number(batchText) : NaN;
    if (!(batchSize >= 1 && batchSize <= 10_000)) problems.push({ setting: '--batch-size', message: 'must be a whole number in 1..10000' });
    if (problems.length > 0 || olderThanMs === undefined) throw new ConfigError(problems);

    const conn = await connectTarget(target);
    try {
      const result = await purgeOutbox(conn, { table: target.table, olderThanMs, batchSize, signal: ctx.signal });
      const cutoff = new Date(result.cutoffMs).toISOString();
      ctx.stdout.write(`deleted ${result.deleted} outbox rows older than ${cutoff}${result.aborted ? ' (stopped early)' : ''}\n`);
      return EXIT.OK;
    } finally {
      await conn.end();
    }
  },
};
