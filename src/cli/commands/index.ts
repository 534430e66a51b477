import type { Command } from '../command.js';
import { auditCommand } from './audit.js';
import { auditSampleCommand } from './audit-sample.js';
import { backfillCommand } from './backfill.js';
import { connectorsApplyCommand } from './connectors-apply.js';
import { connectorsStatusCommand } from './connectors-status.js';
import { demoWriterCommand } from './demo-writer.js';
import { demoCommand, labCommand } from './lab.js';
import { dlqListCommand } from './dlq-list.js';
import { dlqReplayCommand } from './dlq-replay.js';
import { flushCommand } from './flush.js';
import { inspectCommand } from './inspect.js';
import { migrateCommand } from './migrate.js';
import { outboxPurgeCommand } from './outbox-purge.js';
import { rebuildCommand } from './rebuild.js';
import { schemasCheckCommand } from './schemas-check.js';
import { schemasPushCommand } from './schemas-push.js';
import { runCommand } from './run.js';
import { sinkCommand } from './sink.js';

/**
 * Every CLI command, in the order `--help` lists them. Each lives in its own file in this folder
 * and is added here with one line.
 */
export const COMMANDS: readonly Command[] = [
  migrateCommand,
  outboxPurgeCommand,
  connectorsApplyCommand,
  connectorsStatusCommand,
  sinkCommand,
  runCommand,
  auditCommand,
  auditSampleCommand,
  schemasCheckCommand,
  schemasPushCommand,
  labCommand,
  demoCommand,
  demoWriterCommand,
  backfillCommand,
  rebuildCommand,
  flushCommand,
  inspectCommand,
  dlqListCommand,
  dlqReplayCommand,
];
