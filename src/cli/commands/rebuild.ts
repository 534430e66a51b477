/** `outbox-cache rebuild`: the recovery procedure, a safe flush of a namespace then a backfill. */
import { describeSettings } from '../../config/settings.js';
import { rebuildNamespace } from '../../operations/rebuild.js';
import { REBUILD_SETTINGS } from '../../operations/settings.js';
import { EXIT, type Command } from '../command.js';
import { describeBackfill, parseBackfillArgs } from './backfill.js';
import { loadSerializer, backfillPool } from './backfill-options.js';
import { describeFlush } from './flush.js';
import { progressBar, redisFromSettings } from './operations-options.js';

export const rebuildCommand: Command = {
  path: ['rebuild'],
  summary: 'Recover a namespace after a lost relay/connector position or an old Redis snapshot: flush, then backfill',
  usage: [
    'Usage: outbox-cache rebuild --namespace NS --table TABLE [options]',
    '',
    'First the sink (or relay) must run again from its new position. Then rebuild flushes the',
    'namespace (every entry, "known absent" and lease becomes a tombstone at its own version, so',
    'nothing older than the database is served and the version floors stay) and then backfills it',
    'from TABLE through the guard (see `outbox-cache backfill --help`). This order guarantees no',
    'stale state survives: the flush cannot destroy the backfill\'s fresh entries, and states the',
    'backfill never sees (deleted rows, other tables) are tombstones too. Interrupted during the',
    'backfill, the same command resumes it without flushing again; --restart flushes again.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(REBUILD_SETTINGS),
    '',
    'Exit codes: 0 done (or stopped by a signal: run again to resume), 1 MySQL/Redis failed or a row',
    'could not be written, 2 bad usage.',
  ].join('\n'),
  async run(ctx) {
    const { settings, plan } = parseBackfillArgs(ctx, REBUILD_SETTINGS);
    const serializer = await loadSerializer(plan.serializerPath);
    const redis = await redisFromSettings(settings);
    const mysql = backfillPool(settings.mysqlUrl);
    const flushing = progressBar(ctx, 'keys flushed');
    const filling = progressBar(ctx, 'rows');
    try {
      const result = await rebuildNamespace({
        redis, mysql, spec: plan.spec, keyPrefix: settings.keyPrefix, serializer, batchSize: plan.batchSize, rowsPerSecond: plan.rate,
        ttl: { entryTtlMs: settings.entryTtlMs, negativeTtlMs: settings.negativeTtlMs, tombstoneTtlMs: settings.tombstoneTtlMs },
        leaseTtlMs: settings.leaseTtlMs, resume: !settings.restart, signal: ctx.signal, flushKeysPerSecond: settings.flushRate,
        countTotal: (ctx.stderr as NodeJS.WriteStream).isTTY === true,
        onFlushProgress: (c) => flushing.update(Object.values(c).reduce((a, b) => a + b, 0)),
        onProgress: ({ counts, total }) => {
          flushing.stop();
          filling.update(counts.rows, total);
        },
      });
      flushing.stop();
      filling.stop();
      ctx.stdout.write(result.flush ? `flush: ${describeFlush(result.flush.counts, false)}\n` : 'flush: done by the interrupted run, resuming its backfill\n');
      if (result.backfill) {
        if (result.backfill.resumedAfterRows !== undefined) ctx.stdout.write(`backfill resumed after ${result.backfill.resumedAfterRows} rows\n`);
        ctx.stdout.write(`backfill: ${describeBackfill(result.backfill.counts, plan.spec.mode)}\n`);
      }
      if (result.aborted) ctx.stdout.write('stopped; run the same command again to resume\n');
      return EXIT.OK;
    } finally {
      flushing.stop();
      filling.stop();
      redis.disconnect();
      await mysql.end();
    }
  },
};
