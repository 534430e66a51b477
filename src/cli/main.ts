#!/usr/bin/env node
/**
 * The `outbox-cache` command line: finds the command named by the first words of argv and runs it.
 * Exit codes: 0 ok, 1 the command found a failure, 2 bad usage or configuration.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EXIT, runReporting, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';

function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length), 10);
  const lines = commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`);
  return [
    'Usage: outbox-cache <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `outbox-cache <command> --help` for the options of a command.',
    '',
  ].join('\n');
}

/** Finds the command whose path is the longest prefix of `argv`. */
function resolve(argv: readonly string[]): { command: Command; rest: readonly string[] } | undefined {
  let best: Command | undefined;
  for (const command of COMMANDS) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best && { command: best, rest: argv.slice(best.path.length) };
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(helpText(COMMANDS));
    return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
  }
  if (argv[0] === '--version') {
    process.stdout.write('outbox-cache 0.1.0\n');
    return EXIT.OK;
  }
  const found = resolve(argv);
  if (!found) {
    process.stderr.write(`outbox-cache: unknown command '${argv.join(' ')}'\n\n${helpText(COMMANDS)}`);
    return EXIT.USAGE;
  }
  if (found.rest.includes('--help') || found.rest.includes('-h')) {
    process.stdout.write(`${found.command.usage.trimEnd()}\n`);
    return EXIT.OK;
  }
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      process.stderr.write(`outbox-cache: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const command = found.command;
  const ctx = { argv: found.rest, env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal };
  try {
    return await runReporting(ctx, command.path.join(' '), () => command.run(ctx));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = EXIT.FAILURE;
    },
  );
}
