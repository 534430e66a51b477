/** `outbox-cache run`: the embedded binlog relay, until SIGTERM/SIGINT. */
import { startEmbeddedAudit } from '../../audit/embedded.js';
import { EMBEDDED_AUDIT_SETTINGS, parseBoth, parseEmbeddedAuditConfig, splitArgv } from '../../audit/settings.js';
import { describeSettings } from '../../config/settings.js';
import { createLogger } from '../../ops/logger.js';
import { runRelayFromConfig } from '../../relay/from-config.js';
import { createRelayMetrics } from '../../relay/metrics.js';
import { RUN_SETTINGS, parseRunConfig } from '../../relay/run-config.js';
import { EXIT, type Command } from '../command.js';

/** The run command. Configuration errors exit 2 listing every problem; a clean stop exits 0. */
export const runCommand: Command = {
  path: ['run'],
  summary: 'Tail the outbox table in the binlog and apply events to Redis (or produce them to Kafka), without Debezium',
  usage: [
    'Usage: outbox-cache run [options]',
    '',
    'Reads the MySQL/MariaDB binlog as a replica, takes every committed INSERT into the outbox table in',
    'commit order and, in redis mode, applies it to Redis through the same mapping and version guard as',
    'the sink; in kafka mode, produces it exactly as Debezium\'s outbox EventRouter would. The binlog',
    'position is stored in MySQL only after Redis (or Kafka) acknowledged every event before it. A first',
    'start begins at the current end of the binlog (or --start-position). Every option can also be set',
    'by its variable; flags win.',
    '',
    'Options (environment variable in parentheses):',
    describeSettings(RUN_SETTINGS),
    '',
    'Embedded consistency audit (redis mode; on when AUDIT_DELAYS is set; see docs/auditor.md):',
    describeSettings(EMBEDDED_AUDIT_SETTINGS),
    '',
  ].join('\n'),
  async run(ctx) {
    const argv = splitArgv(ctx.argv, EMBEDDED_AUDIT_SETTINGS);
    const [config, auditConfig] = parseBoth(() => parseRunConfig(ctx.env, argv.rest), () => parseEmbeddedAuditConfig(ctx.env, argv.own));
    const logger = createLogger({ level: config.logLevel, name: 'outbox-cache-relay' });
    // One registry, served on the relay's METRICS_PORT: the audit's metrics join the relay's.
    const metrics = createRelayMetrics();
    const audit = await startEmbeddedAudit(auditConfig, config, { logger, registry: metrics.registry });
    try {
      await runRelayFromConfig(config, { signal: ctx.signal, logger, metrics, onBatchApplied: audit?.onBatchApplied });
    } finally {
      await audit?.stop();
    }
    return EXIT.OK;
  },
};
