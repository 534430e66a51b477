/**
 * The guarded-vs-cache-aside demo library (`runDemo`, still exported from the package root): a
 * short run on the shared test servers. The `outbox-cache demo` command now runs the lab
 * (test/lab/lab-command.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createConnection } from 'mysql2/promise';
import { runDemo } from '../../src/demo/demo.js';

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
    expect(s.writes).toBeGreaterThan(0);
    expect(s.relay).toEqual({ events: s.writes, changed: expect.any(Number), superseded: expect.any(Number), skipped: 0 });
    expect(s.guarded.reads).toBeGreaterThan(0);
    expect(s.plain.reads).toBeGreaterThan(0);
    expect(s.guarded.staleKeys).toBe(0);
    expect(out).toMatch(/\[ {2}1s\] writes \d+ \| guarded [\d,]+ reads/);
    expect(out).toContain('Summary after');
    expect(out).toContain('local\n  id 3');
    // Its own database and keys are gone.
    expect(await demoDatabases()).toEqual(before);
  });
});
