/**
 * Runs a CLI command in-process with captured output, for the tests in this folder.
 */
import { Writable } from 'node:stream';
import type { Command } from '../../src/cli/command.js';

/** What a command printed and returned. */
export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command` with `argv` and `env`; output is captured, not printed. */
export async function runCommand(
  command: Command,
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<CommandRun> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (text: string) => void): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = await command.run({
    argv,
    env,
    stdout: sink((t) => (stdout += t)),
    stderr: sink((t) => (stderr += t)),
    signal,
  });
  return { code, stdout, stderr };
}
