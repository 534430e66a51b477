/**
 * `outbox-cache connectors status <name>`: one look at a connector's state in Kafka Connect.
 */
import { assessStatus, describeStatus } from '../../connect/status.js';
import { EXIT, runReporting, type Command, type CommandContext } from '../command.js';
import { DEFAULT_CONNECT_URL, connectClient, parseConnectorsArgs, printFailures } from './connectors-options.js';

const usage = `Usage: outbox-cache connectors status <name> [options]

Prints the state of the connector <name> and of its tasks, with the stack trace of any that
FAILED.

Options:
  --connect-url URL    Kafka Connect REST URL (env KAFKA_CONNECT_URL, default ${DEFAULT_CONNECT_URL})
  --full-trace         print every frame of a failure's stack trace

Exit codes: 0 the connector and all its tasks are RUNNING; 1 anything else (failed, paused,
starting, no such connector, Kafka Connect unreachable); 2 bad usage.`;

async function run(ctx: CommandContext): Promise<number> {
  return runReporting(ctx, 'connectors status', async () => {
    const args = parseConnectorsArgs(ctx, { positionals: ['<name>'], waits: false });
    const name = args.positionals[0] as string;
    const client = connectClient(args.connectUrl, ctx.signal);
    const status = await client.getConnectorStatus(name);
    if (!status) {
      ctx.stderr.write(`connector ${name}: not found at ${client.displayUrl}\n`);
      return EXIT.FAILURE;
    }
    const verdict = assessStatus(status);
    const line = `connector ${name}: ${describeStatus(status)}\n`;
    if (verdict.kind === 'running') {
      ctx.stdout.write(line);
      return EXIT.OK;
    }
    ctx.stderr.write(line);
    if (verdict.kind === 'failed') printFailures(ctx, verdict.failures, args.fullTrace);
    if (verdict.kind === 'halted') ctx.stderr.write(`it will not run until resumed (PUT ${client.displayUrl}/connectors/${name}/resume)\n`);
    return EXIT.FAILURE;
  });
}

/** The `connectors status` command. */
export const connectorsStatusCommand: Command = {
  path: ['connectors', 'status'],
  summary: 'Show a connector and its tasks, with the stack trace of any failure',
  usage,
  run,
};
