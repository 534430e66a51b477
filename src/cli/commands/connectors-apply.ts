/**
 * `outbox-cache connectors apply <file.json>`: creates or updates a Kafka Connect connector from a
 * connector file and waits until it runs.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';
import { applyConnector } from '../../connect/apply.js';
import { parseConnectorFile, resolveConnector } from '../../connect/connector-file.js';
import { describeStatus } from '../../connect/status.js';
import { EXIT, runReporting, type Command, type CommandContext } from '../command.js';
import { DEFAULT_CONNECT_URL, connectClient, parseConnectorsArgs, printFailures } from './connectors-options.js';

const usage = `Usage: outbox-cache connectors apply <file.json> [options]

Creates or updates the Kafka Connect connector described by <file.json> (for example
connectors/outbox-mysql.json) with PUT /connectors/<name>/config, then waits until the connector
and its tasks are RUNNING. Applying an unchanged file writes nothing; if that connector is FAILED,
its failed parts are restarted.

Placeholders in the file:
  \${NAME}, \${NAME:-default}   replaced from this command's environment (capital names only)
  anything else, e.g. \${env:DEBEZIUM_DB_PASSWORD}
                              sent as written; the Connect worker resolves it (config providers)

Options:
  --connect-url URL    Kafka Connect REST URL (env KAFKA_CONNECT_URL, default ${DEFAULT_CONNECT_URL});
                       user:password@ in the URL is sent as basic auth
  --timeout DURATION   give up waiting after this long, e.g. 90s, 5m (default 120s)
  --full-trace         print every frame of a failure's stack trace
  --dry-run            print the configuration that would be sent, send nothing

Exit codes: 0 running; 1 failed, paused, timed out or Kafka Connect refused the configuration
(the reason and the task's stack trace on stderr); 2 bad usage or configuration.`;

async function run(ctx: CommandContext): Promise<number> {
  return runReporting(ctx, 'connectors apply', async () => {
    const args = parseConnectorsArgs(ctx, { positionals: ['<file.json>'], waits: true });
    const file = args.positionals[0] as string;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ConfigError([{ setting: file, message: `cannot read: ${(err as Error).message}` }]);
    }
    const spec = resolveConnector(parseConnectorFile(text, file), ctx.env);
    if (args.dryRun) {
      ctx.stdout.write(`${JSON.stringify({ name: spec.name, config: spec.config }, null, 2)}\n`);
      return EXIT.OK;
    }
    const client = connectClient(args.connectUrl, ctx.signal);
    const { change, outcome } = await applyConnector(client, spec, {
      timeoutMs: args.timeoutMs,
      signal: ctx.signal,
      onProgress: (line) => ctx.stderr.write(`${line}\n`),
    });
    const label = `connector ${spec.name} (configuration ${change})`;
    switch (outcome.kind) {
      case 'running':
        ctx.stdout.write(`${label} RUNNING at ${client.displayUrl}: ${describeStatus(outcome.status)}\n`);
        return EXIT.OK;
      case 'failed':
        ctx.stderr.write(`${label} FAILED: ${describeStatus(outcome.status)}\n`);
        printFailures(ctx, outcome.failures, args.fullTrace);
        return EXIT.FAILURE;
      case 'halted':
        ctx.stderr.write(
          `${label} is ${outcome.state}: it will not run until resumed ` +
            `(PUT ${client.displayUrl}/connectors/${spec.name}/resume)\n`,
        );
        return EXIT.FAILURE;
      case 'timeout':
        ctx.stderr.write(`${label} not RUNNING after ${args.timeoutMs / 1000}s: ${outcome.reason}\n`);
        return EXIT.FAILURE;
      case 'aborted':
        ctx.stderr.write(`${label}: interrupted before it was RUNNING\n`);
        return EXIT.FAILURE;
    }
  });
}

/** The `connectors apply` command. */
export const connectorsApplyCommand: Command = {
  path: ['connectors', 'apply'],
  summary: 'Create or update a Debezium connector in Kafka Connect and wait until it runs',
  usage,
  run,
};
