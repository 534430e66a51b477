/** `outbox-cache backfill`: writes a table's rows into the cache through the version guard. */
import { describeSettings } from '../../config/settings.js';
import { backfillNamespace, type BackfillCounts } from '../../operations/backfill.js';
import { BACKFILL_SETTINGS } from '../../operations/settings.js';
import { EXIT, type Command, type CommandContext } from '../command.js';
import { backfillPlan, backfillPool, loadSerializer } from './backfill-options.js';
import { parseOperationArgs, progressBar, redisFromSettings, redisProblems } from './operations-options.js';

/** One line of counts, for people. */
export function describeBackfill(counts: BackfillCounts, mode: 'fill' | 'invalidate'): string {
  return `${counts.rows} rows: ${counts.written} ${mode === 'fill' ? 'filled' : 'invalidated'}, ${counts.refused} kept (newer or equal state, or a write since the lease), ` +
    `${counts.busy} being filled by a reader, ${counts.gone} without a row or version now, ${counts.wrongType} of another Redis type`;
}

/** Parses the settings of `backfill` (and, with `table`, of `rebuild`); every problem at once. */
export function parseBackfillArgs<T extends typeof BACKFILL_SETTINGS>(ctx: CommandContext, table: T) {
  let plan: ReturnType<typeof backfillPlan>['plan'];
  const { settings } = parseOperationArgs(ctx, table, { min: 0, max: 0, what: '' }, (c) => {
    const result = backfillPlan(c);
    plan = result.plan;
    return [...redisProblems(c), ...result.problems];
  });
  if (!plan) throw new Error('unreachable: a backfill plan without problems');
  return { settings, plan };
}

export const backfillCommand: Command = {
  path: ['backfill'],
  summary: 'Fill the cache from a table through the version guard, resumably (or write tombstones with --mode invalidate)',
  usage: [
    'Usage: outbox-cache backfill --namespace NS --table TABLE [options]',
    '',
    'Scans TABLE in primary-key order, --batch-size rows at a time at most --rate rows/s, and writes',
    'each row\'s key (<prefix><key template>) as a reader\'s fill would: leases on the batch\'s missing',
    'keys and tombstones, the rows read after the leases, filled under them at the rows\' versions;',
    'an older entry is replaced, a newer state, a sink write or another reader\'s lease wins. Safe to',
    'run beside the sink and live readers. --mode invalidate writes tombstones at the rows\' versions',
    'instead (for caches filled only by reads). The cursor is stored in Redis after every batch: a',
    'run stopped by SIGINT/SIGTERM (between batches) or a failure resumes where it stopped; --restart',
    'starts over. Options may also come from a JSON file (--config) with one entry per namespace.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(BACKFILL_SETTINGS),
    '',
    'Exit codes: 0 done (or stopped by a signal: run again to resume), 1 MySQL/Redis failed or a row',
    'could not be written, 2 bad usage.',
  ].join('\n'),
  async run(ctx) {
    const { settings, plan } = parseBackfillArgs(ctx, BACKFILL_SETTINGS);
    const serializer = await loadSerializer(plan.serializerPath);
    const redis = await redisFromSettings(settings);
    const mysql = backfillPool(settings.mysqlUrl);
    const progress = progressBar(ctx, 'rows');
    try {
      const result = await backfillNamespace({
        redis, mysql, spec: plan.spec, keyPrefix: settings.keyPrefix, serializer, batchSize: plan.batchSize, rowsPerSecond: plan.rate,
        ttl: { entryTtlMs: settings.entryTtlMs, negativeTtlMs: settings.negativeTtlMs, tombstoneTtlMs: settings.tombstoneTtlMs },
        leaseTtlMs: settings.leaseTtlMs, resume: !settings.restart, signal: ctx.signal,
        countTotal: (ctx.stderr as NodeJS.WriteStream).isTTY === true,
        onProgress: ({ counts, total }) => progress.update(counts.rows, total),
      });
      progress.stop();
      if (result.resumedAfterRows !== undefined) ctx.stdout.write(`resumed after ${result.resumedAfterRows} rows\n`);
      ctx.stdout.write(`${describeBackfill(result.counts, plan.spec.mode)}\n`);
      if (result.aborted) ctx.stdout.write('stopped between batches; run the same command again to resume\n');
      return EXIT.OK;
    } finally {
      progress.stop();
      redis.disconnect();
      await mysql.end();
    }
  },
};
