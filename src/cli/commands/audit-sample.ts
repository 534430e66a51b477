/** `outbox-cache audit sample`: a spot check of cached keys against database rows, without a stream. */
import { runSampleFromConfig } from '../../audit/sample-run.js';
import { SAMPLE_SETTINGS, parseSampleConfig } from '../../audit/sample-settings.js';
import { describeSettings } from '../../config/settings.js';
import { createLogger } from '../../ops/logger.js';
import { EXIT, type Command } from '../command.js';

/** The sample command: exit 0 when nothing stale was found (or all of it was repaired), 1 otherwise, 2 on bad settings. */
export const auditSampleCommand: Command = {
  path: ['audit', 'sample'],
  summary: 'Spot-check cached keys of some namespaces against the database\'s row versions, optionally repair',
  usage: [
    'Usage: outbox-cache audit sample --queries JSON [options]',
    '',
    'SCANs the cached keys <prefix><namespace>:<id> of each namespace named in --queries, at most --keys-per-s',
    'keys per second, and for each entry or known-absent value reads the row\'s version with that namespace\'s',
    'query (the id is its one ? parameter). Prints every key whose cached version is older than the database\'s;',
    'with --repair writes a tombstone at the database version through the guard. See docs/auditor.md.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(SAMPLE_SETTINGS),
    '',
    'Exit codes: 0 nothing stale (or every stale key repaired), 1 stale keys left, 2 bad settings.',
    '',
  ].join('\n'),
  async run(ctx) {
    const config = parseSampleConfig(ctx.env, ctx.argv);
    const logger = createLogger({ level: config.logLevel, name: 'outbox-cache-audit-sample', destination: process.stderr });
    const result = await runSampleFromConfig(config, { signal: ctx.signal, logger });
    for (const s of result.stale) {
      ctx.stdout.write(`stale ${s.key} cached ${s.found} v${s.cachedVersion} < database v${s.databaseVersion}${s.repaired ? ' (repaired)' : ''}\n`);
    }
    ctx.stdout.write(`scanned ${result.scanned}, compared ${result.compared}, stale ${result.stale.length}, repaired ${result.repaired}, row missing ${result.rowMissing}\n`);
    return result.stale.length > result.repaired ? EXIT.FAILURE : EXIT.OK;
  },
};
