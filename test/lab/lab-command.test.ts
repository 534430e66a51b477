/**
 * `outbox-cache lab` (and its alias `demo`) from the command line, on the shared test MariaDB:
 * stopped early by Ctrl-C it still prints the table and writes the JSON and the report.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { CommandContext } from '../../src/cli/command.js';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { demoCommand, labCommand } from '../../src/cli/commands/lab.js';
import { ConfigError } from '../../src/errors.js';
import type { LabResult } from '../../src/lab/results.js';
import { waitUntil } from '../helpers.js';

function context(argv: string[], signal: AbortSignal): { ctx: CommandContext; out: () => string; err: () => string } {
  let stdout = '';
  let stderr = '';
  const stream = (append: (t: string) => void): Writable => new Writable({ write: (chunk, _e, done) => (append(String(chunk)), done()) });
  return {
    ctx: { argv, env: { LAB_MYSQL_URL: inject('mysqlUrl') }, signal, stdout: stream((t) => (stdout += t)), stderr: stream((t) => (stderr += t)) },
    out: () => stdout,
    err: () => stderr,
  };
}

describe('outbox-cache lab', () => {
  it('is registered under both names', () => {
    expect(COMMANDS).toContain(labCommand);
    expect(COMMANDS).toContain(demoCommand);
    expect(demoCommand.usage).toContain('Usage: outbox-cache demo');
  });

  it('stops early on Ctrl-C with the table, the JSON and the report written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-cache-lab-cli-'));
    const controller = new AbortController();
    const { ctx, out, err } = context([
      '--duration', '60s', '--strategies', 'cache-aside,ours', '--faults', 'none', '--keys', '5', '--hot-keys', '2',
      '--json', join(dir, 'lab.json'), '--report', join(dir, 'lab.html'),
    ], controller.signal);
    const running = labCommand.run(ctx);
    await waitUntil('the lab running', () => /\] running: [1-9][\d,]* writes/.test(out()) || /\[ {2}[1-9]s\] running/.test(out()), 60_000);
    controller.abort();
    expect(await running).toBe(0);
    expect(err()).toBe('');
    expect(out()).toContain('(stopped early)');
    expect(out()).toMatch(/^cache-aside\s+\d+/m);
    expect(out()).toMatch(/^ours \*\s+\d+/m);
    expect(out()).toContain(`Report: ${join(dir, 'lab.html')}`);
    const json = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabResult;
    expect(json.interrupted).toBe(true);
    expect(json.strategies.map((s) => s.name)).toEqual(['cache-aside', 'ours']);
    expect(readFileSync(join(dir, 'lab.html'), 'utf8')).toContain('<canvas id="timeline-1">');
  });

  it('refuses bad options before starting anything, under either name', async () => {
    const { ctx } = context(['--strategies', 'nope'], new AbortController().signal);
    await expect(demoCommand.run(ctx)).rejects.toBeInstanceOf(ConfigError);
  });
});
