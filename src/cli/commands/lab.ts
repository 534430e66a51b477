/** `outbox-cache lab`: every strategy side by side under the same workload and faults. */
import { describeSettings } from '../../config/settings.js';
import { LAB_SETTINGS, parseLabConfig } from '../../lab/lab-config.js';
import { runLabFromConfig } from '../../lab/run-from-config.js';
import { faultLegend } from '../../lab/table.js';
import { MissingBinaryError } from '../../local-servers/index.js';
import { EXIT, type Command, type CommandContext } from '../command.js';

const USAGE = (name: string): string => [
  `Usage: outbox-cache ${name} [options]`,
  '',
  'Runs every cache-consistency strategy (cache-aside, delete-first, delayed double delete, update the cache',
  'after or before the database, write-through with and without a lock, write-behind, MQ-retried delete,',
  'binlog delete, TTL only, and this project\'s outbox + relay + version guard) on a local MariaDB and Redis,',
  'each on its own rows and key prefix, under one workload (writers, readers that pause between their database',
  'read and their fill, hot and cold items) and one fault schedule. Measures from ground truth: stale reads and',
  'their age, keys left stale for good, the auditor\'s checks 1 s and 10 s after each write, lost writes, added',
  'write latency, hit rate, database reads. Prints a table and writes a self-contained HTML report.',
  'Ctrl-C ends the workload early; the results are still computed.',
  'Needs mariadbd and redis-server on PATH (Debian: apt-get install -y mariadb-server redis-server).',
  '',
  'Faults (--faults):',
  faultLegend(),
  '',
  'Options (environment variable in parentheses):',
  describeSettings(LAB_SETTINGS),
  '',
].join('\n');

async function run(name: string, ctx: CommandContext): Promise<number> {
  const config = parseLabConfig(ctx.env, ctx.argv);
  try {
    await runLabFromConfig(config, { stdout: ctx.stdout, stderr: ctx.stderr, signal: ctx.signal, cwd: process.cwd() });
  } catch (err) {
    if (!(err instanceof MissingBinaryError)) throw err;
    ctx.stderr.write(`outbox-cache ${name}: ${err.message.replace(/ \(or set .*$/, '')}\n` +
      'It needs MariaDB and Redis installed locally: sudo apt-get update && sudo apt-get install -y mariadb-server redis-server\n');
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}

/** The lab command. Exits 0 after the table, also when stopped early with Ctrl-C. */
export const labCommand: Command = {
  path: ['lab'],
  summary: 'Measure every cache-consistency strategy side by side under the same races and faults',
  usage: USAGE('lab'),
  run: (ctx) => run('lab', ctx),
};

/** `outbox-cache demo`: the lab under its old name. */
export const demoCommand: Command = {
  path: ['demo'],
  summary: 'Alias of `outbox-cache lab`',
  usage: USAGE('demo'),
  run: (ctx) => run('demo', ctx),
};
