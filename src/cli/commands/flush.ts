/** `outbox-cache flush`: turns a namespace's cached states into tombstones at their own versions. */
import { describeSettings } from '../../config/settings.js';
import { cacheTtlProblems } from '../../config/sink.js';
import { resolveCacheTtl } from '../../cache/cache-ttl.js';
import { flushNamespace, type FlushCounts } from '../../operations/flush.js';
import { FLUSH_SETTINGS } from '../../operations/settings.js';
import { EXIT, type Command } from '../command.js';
import { parseOperationArgs, progressBar, redisFromSettings, redisProblems } from './operations-options.js';

/** One line of counts, for people. */
export function describeFlush(c: FlushCounts, dryRun: boolean): string {
  const changed = c.entries + c.absents + c.leases;
  return `${dryRun ? 'would turn' : 'turned'} ${changed} keys into tombstones (${c.entries} entries, ${c.absents} known absent, ${c.leases} leases); ` +
    `left ${c.tombstones} tombstones, ${c.foreign} foreign strings, ${c.wrongType} keys of another type${c.missing ? `; ${c.missing} gone meanwhile` : ''}`;
}

export const flushCommand: Command = {
  path: ['flush'],
  summary: 'Turn every cached state of a namespace into a tombstone at its own version (never a blind DEL)',
  usage: [
    'Usage: outbox-cache flush --namespace NS [options]',
    '',
    'SCANs <prefix><namespace>:* (every master of a Cluster) and, through the guard, turns each entry',
    'and "known absent" into a tombstone at its own version and each reader\'s lease into a tombstone',
    'at its floor. The version floors survive (a DEL would drop them and let a read that began before',
    'the flush fill an old version); readers then take leases and read the database. At most --rate',
    'keys per second; SIGINT/SIGTERM stops between SCAN steps. --dry-run only counts.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(FLUSH_SETTINGS),
    '',
    'Exit codes: 0 done (or stopped by a signal: run again), 1 Redis failed, 2 bad usage.',
  ].join('\n'),
  async run(ctx) {
    const { settings } = parseOperationArgs(ctx, FLUSH_SETTINGS, { min: 0, max: 0, what: '' }, (c) => [
      ...redisProblems(c), ...cacheTtlProblems({ tombstoneTtlMs: c.tombstoneTtlMs, entryTtlMs: undefined, negativeTtlMs: undefined }),
    ]);
    const redis = await redisFromSettings(settings);
    const progress = progressBar(ctx, 'keys');
    try {
      const result = await flushNamespace({
        redis, namespace: settings.namespace, keyPrefix: settings.keyPrefix, tombstoneTtlMs: resolveCacheTtl({ tombstoneTtlMs: settings.tombstoneTtlMs }).tombstoneTtlMs,
        keysPerSecond: settings.rate, scanCount: settings.scanCount, dryRun: settings.dryRun, signal: ctx.signal,
        onProgress: (c) => progress.update(Object.values(c).reduce((a, b) => a + b, 0)),
      });
      progress.stop();
      ctx.stdout.write(`${describeFlush(result.counts, settings.dryRun)}${result.aborted ? ' (stopped early)' : ''}\n`);
      return EXIT.OK;
    } finally {
      progress.stop();
      redis.disconnect();
    }
  },
};
