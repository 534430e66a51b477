import { createConnection, type Connection } from 'mysql2/promise';
import { ConfigError, type ConfigProblem } from '../../errors.js';
import { migrateOutbox } from '../../outbox/migrate.js';
import { DEFAULT_OUTBOX_TABLE, outboxTableName } from '../../outbox/sql.js';
import { parseCliArgs, type CliOptions, type CliValues } from '../args.js';
import { EXIT, type Command, type CommandContext } from '../command.js';

/** Options every outbox command takes: where MySQL is and which table is the outbox. */
export interface OutboxTarget {
  readonly mysqlUrl: string;
  readonly table: string;
}

/** The parseArgs option table of {@link OutboxTarget}, to spread into a command's own table. */
export const OUTBOX_TARGET_OPTIONS = {
  'mysql-url': { type: 'string' },
  table: { type: 'string' },
} as const satisfies CliOptions;

/**
 * Validates `--mysql-url` (else MYSQL_URL) and `--table`, pushing problems instead of throwing so
 * a command can report every bad setting at once. The URL must select a database unless the
 * table name is qualified (`db.table`). The URL is never echoed back (it may hold a password).
 */
export function outboxTarget(
  values: { readonly 'mysql-url'?: string | undefined; readonly table?: string | undefined },
  env: CommandContext['env'],
  problems: ConfigProblem[],
): OutboxTarget {
  const setting = values['mysql-url'] !== undefined ? '--mysql-url' : 'MYSQL_URL';
  const mysqlUrl = values['mysql-url'] ?? env.MYSQL_URL ?? '';
  const table = values.table ?? DEFAULT_OUTBOX_TABLE;
  let qualified = false;
  try {
    qualified = outboxTableName(table).database !== undefined;
  } catch (err) {
    problems.push({ setting: '--table', message: (err as Error).message });
  }
  let url: URL | undefined;
  try {
    url = new URL(mysqlUrl);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:')) {
    problems.push({ setting, message: 'required: a URL like mysql://user:password@host:3306/database' });
  } else if (url.pathname.length <= 1 && !qualified) {
    problems.push({ setting, message: 'must name the database (mysql://host:3306/database), or pass --table database.table' });
  }
  return { mysqlUrl, table };
}

/** Opens one connection for a CLI command (UTC, exact big integers). */
export function connectTarget(target: OutboxTarget): Promise<Connection> {
  const url = new URL(target.mysqlUrl);
  url.protocol = 'mysql:';
  return createConnection({ uri: url.toString(), timezone: 'Z', supportBigNumbers: true, connectTimeout: 10_000 });
}

/**
 * Parses argv (see parseCliArgs): the values, with every argument problem pushed to `problems`
 * so that the command reports them with its other problems at once.
 */
export function parseCommandArgs<O extends CliOptions>(argv: readonly string[], options: O, problems: ConfigProblem[]): { values: CliValues<O> } {
  const parsed = parseCliArgs(argv, options);
  problems.push(...parsed.problems);
  return { values: parsed.values };
}

/** `outbox-cache migrate`: creates the outbox table if needed and checks its columns. */
export const migrateCommand: Command = {
  path: ['migrate'],
  summary: 'Create the outbox table if it does not exist and check its columns (idempotent)',
  usage: `Usage: outbox-cache migrate [--mysql-url URL] [--table NAME]

Applies schemas/sql/001-outbox.sql (CREATE TABLE IF NOT EXISTS) and checks that the table has the
columns the writer and Debezium expect. Safe to run on every deploy.

  --mysql-url URL   mysql://user:password@host:3306/database (env MYSQL_URL)
  --table NAME      outbox table, table or database.table (default ${DEFAULT_OUTBOX_TABLE})

Exit codes: 0 the table is ready, 1 it exists with other columns or MySQL failed, 2 bad usage.`,
  async run(ctx) {
    const problems: ConfigProblem[] = [];
    const { values } = parseCommandArgs(ctx.argv, OUTBOX_TARGET_OPTIONS, problems);
    const target = outboxTarget(values, ctx.env, problems);
    if (problems.length > 0) throw new ConfigError(problems);
    const conn = await connectTarget(target);
    try {
      const result = await migrateOutbox(conn, { table: target.table });
      ctx.stdout.write(
        result.created ? `created outbox table ${result.table}\n` : `outbox table ${result.table} already exists and matches the contract\n`,
      );
      return EXIT.OK;
    } finally {
      await conn.end();
    }
  },
};
