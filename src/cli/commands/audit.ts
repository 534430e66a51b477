/** `outbox-cache audit`: the consistency auditor over the outbox topics, until SIGTERM/SIGINT. */
import { runAuditFromConfig } from '../../audit/from-config.js';
import { AUDIT_SETTINGS, parseAuditConfig } from '../../audit/settings.js';
import { describeSettings } from '../../config/settings.js';
import { EXIT, type Command } from '../command.js';

/** The audit command. Configuration errors exit 2 listing every problem; a clean stop exits 0. */
export const auditCommand: Command = {
  path: ['audit'],
  summary: 'Measure how consistent the cache is within given delays of each commit ("N nines within M seconds"), optionally repair',
  usage: [
    'Usage: outbox-cache audit [options]',
    '',
    'Reads the outbox topics in its own consumer group, maps each record to the cache keys the sink writes',
    '(same mapping, same settings), and checks each key in Redis at commit time + each delay: consistent',
    'when the key is missing, a tombstone, a lease, or holds a version >= the event\'s. Serves the nines per',
    'delay on /metrics, logs a summary line, writes the last inconsistent keys to --report on stop, and with',
    '--repair writes a tombstone at the event version through the guard. Offsets are committed only after a',
    'record\'s checks are done. See docs/auditor.md. Every option can also be set by its variable; flags win.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(AUDIT_SETTINGS),
    '',
  ].join('\n'),
  async run(ctx) {
    const config = parseAuditConfig(ctx.env, ctx.argv);
    await runAuditFromConfig(config, { signal: ctx.signal });
    return EXIT.OK;
  },
};
