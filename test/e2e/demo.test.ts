/**
 * `outbox-cache demo`: a short run on the shared test servers (the library call), and the command
 * as `npm run demo` runs it, with its own local MariaDB and Redis, stopped early by Ctrl-C.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createConnection } from 'mysql2/promise';
import type { CommandContext } from '../../src/cli/command.js';
import { demoCommand } from '../../src/cli/commands/demo.js';
import { runDemo } from '../../src/demo/demo.js';
import { waitUntil } from '../helpers.js';

async function demoDatabases(): Promise<string[]> {
  const conn = await createConnection(inject('mysqlUrl'));
  try {
    const [rows] = await conn.query("SHOW DATABASES LIKE 'outbox\\_cache\\_demo%'");
    return (rows as Record<string, string>[]).map((r) => Object.values(r)[0] as string);
  } finally {
    await conn.end();
  }
}

describe('outbox-cache demo', () => {
  it('runs both caches under the same workload and leaves no guarded key stale once the relay caught up', async () => {
    const before = await demoDatabases();
    let out = '';
    let err = '';
    const summary = await runDemo({
      durationMs: 2500, writers: 2, readers: 4, keys: 20, fillDelayMs: 20, progressIntervalMs: 500,
      signal: new AbortController().signal,
      out: (t) => void (out += t), err: (t) => void (err += t),
      servers: { mysqlUrl: inject('mysqlUrl'), redisUrl: inject('redisUrl') },
    });
    expect(err).toBe('');
    expect(summary).toBeDefined();
    const s = summary!;
    expect(s.drained).toBe(true);
    expect(s.interrupted).toBe(false);
    expect(s.writes).toBeGreaterThan(20);
    expect(s.relay).toEqual({ events: s.writes, changed: expect.any(Number), superseded: expect.any(Number), skipped: 0 });
    expect(s.guarded.reads).toBeGreaterThan(50);
    expect(s.plain.reads).toBeGreaterThan(50);
    expect(s.guarded.staleKeys).toBe(0);
    expect(out).toMatch(/\[ {2}1s\] writes \d+ \| guarded [\d,]+ reads/);
    expect(out).toContain('Summary after');
    expect(out).toContain('local\n  id 3');
    // Its own database and keys are gone.
    expect(await demoDatabases()).toEqual(before);
  });

  it('runs from the command line on its own local servers and stops cleanly on Ctrl-C with a summary', async () => {
    let stdout = '';
    let stderr = '';
    const controller = new AbortController();
    const stream = (append: (t: string) => void): Writable => new Writable({ write: (chunk, _e, done) => (append(String(chunk)), done()) });
    const ctx: CommandContext = {
      argv: ['--duration', '60s', '--writers', '2', '--readers', '2', '--keys', '10'],
      env: {}, signal: controller.signal,
      stdout: stream((t) => (stdout += t)), stderr: stream((t) => (stderr += t)),
    };
    const running = demoCommand.run(ctx);
    await waitUntil('a progress line', () => /\[ {2}1s\]/.test(stdout), 30_000);
    const port = Number(/MariaDB 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
    controller.abort();
    expect(await running).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toContain('(stopped early)');
    expect(stdout).toMatch(/stale keys at the end\s+0 of 10/);
    // The MariaDB it started is gone.
    await expect(createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1000 })).rejects.toThrow();
  });
});
