/**
 * One database load per key across processes: 4 reader processes × 50 concurrent misses of one
 * key cause exactly one loader call; and a lease holder killed mid-load (SIGKILL) blocks the
 * other processes for at most the lease TTL, after which exactly one of them loads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createTestRedis, waitUntil } from '../helpers.js';

const { redis, prefix } = createTestRedis();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => redis.disconnect());

interface Reader {
  readonly child: ChildProcess;
  readonly events: { event: string; loads?: number; reads?: number; values?: string[]; maxMs?: number }[];
  readonly exited: Promise<number | null>;
}

function startReader(env: Record<string, string>): Reader {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/herd-reader.ts'], {
    env: { ...process.env, REDIS_URL: inject('redisUrl'), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const events: Reader['events'] = [];
  createInterface({ input: child.stdout as NonNullable<ChildProcess['stdout']> }).on('line', (line) => events.push(JSON.parse(line) as Reader['events'][number]));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, events, exited };
}

const has = (reader: Reader, event: string) => reader.events.some((e) => e.event === event);
const done = (reader: Reader) => reader.events.find((e) => e.event === 'done');

describe('the herd across processes', () => {
  it('4 processes × 50 concurrent misses of one key: exactly one loader call, every read gets its value', async () => {
    const key = `${prefix}herd`;
    const releaseKey = `${prefix}herd:release`;
    const readers = Array.from({ length: 4 }, () => startReader({ KEY: key, READS: '50', LEASE_TTL_MS: '20000', RELEASE_KEY: releaseKey }));
    await waitUntil('every process issued its reads and one loads', () => readers.every((r) => has(r, 'issued')) && readers.some((r) => has(r, 'loading')), 60_000);
    await redis.set(releaseKey, '1');
    expect(await Promise.all(readers.map((r) => r.exited))).toEqual([0, 0, 0, 0]);
    const results = readers.map(done);
    expect(results.map((r) => r?.reads)).toEqual([50, 50, 50, 50]);
    expect(results.reduce((sum, r) => sum + (r?.loads ?? 0), 0)).toBe(1);
    const values = new Set(results.flatMap((r) => r?.values ?? []));
    expect(values.size).toBe(1);
    expect([...values][0]).toMatch(/^loaded by \d+$/);
  }, 90_000);

  it('a lease holder killed mid-load blocks the others for at most the lease TTL', async () => {
    const key = `${prefix}killed`;
    const releaseKey = `${prefix}killed:release`;
    const leaseTtlMs = 1_500;
    await redis.set(releaseKey, '1');
    const holder = startReader({ KEY: key, READS: '1', LEASE_TTL_MS: String(leaseTtlMs), RELEASE_KEY: releaseKey, HANG: '1' });
    await waitUntil('the holder loads', () => has(holder, 'loading'), 60_000);
    const others = Array.from({ length: 3 }, () => startReader({ KEY: key, READS: '50', LEASE_TTL_MS: String(leaseTtlMs), RELEASE_KEY: releaseKey }));
    await waitUntil('the others issued their reads', () => others.every((r) => has(r, 'issued')), 60_000);
    holder.child.kill('SIGKILL');
    expect(await Promise.all(others.map((r) => r.exited))).toEqual([0, 0, 0]);
    const results = others.map(done);
    expect(results.map((r) => r?.reads)).toEqual([50, 50, 50]);
    expect(results.reduce((sum, r) => sum + (r?.loads ?? 0), 0)).toBe(1);
    // Each read waited at most for the dead holder's lease to expire, plus one poll and the load.
    for (const r of results) expect(r?.maxMs).toBeLessThan(leaseTtlMs + 1_000);
  }, 90_000);
});
