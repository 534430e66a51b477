/**
 * Runs a CLI command in-process the way `outbox-cache` does (errors reported by runReporting, so
 * a ConfigError exits 2), with captured output and an abort signal the test controls.
 */
import { Writable } from 'node:stream';
import { runReporting, type Command } from '../../src/cli/command.js';

/** What a command printed and returned. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` with `argv` and `env`. */
export async function runCli(
  command: Command, argv: readonly string[], env: Record<string, string | undefined>, signal = new AbortController().signal,
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const capture = (append: (text: string) => void): Writable =>
    new Writable({ write(chunk: Buffer | string, _encoding, done) { append(chunk.toString()); done(); } });
  const ctx = { argv, env, stdout: capture((t) => (stdout += t)), stderr: capture((t) => (stderr += t)), signal };
  const code = await runReporting(ctx, command.path.join(' '), () => command.run(ctx));
  return { code, stdout, stderr };
}
