/**
 * The local servers the demo, the tests and the benchmarks start must be their own: a server
 * already listening on the chosen port (another process won the race for a "free" port) is never
 * taken for the one just started (here the port is forced to the shared test servers' own). And
 * they live in their own process group, so a terminal's Ctrl-C reaches only the process that
 * started them (which stops them after printing its summary), yet they die with that process.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Redis } from 'ioredis';
import { startMariaDb, startRedis } from '../../src/local-servers/index.js';
import { waitUntil } from '../helpers.js';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('local servers on a port another server holds', () => {
  it('refuses to report a Redis that is not the one it started', async () => {
    const port = Number(new URL(inject('redisUrl')).port);
    await expect(startRedis({ port })).rejects.toThrow(/exited/);
    const shared = new Redis(inject('redisUrl'));
    try {
      expect(await shared.ping()).toBe('PONG');
    } finally {
      shared.disconnect();
    }
  });

  it('refuses to report a MariaDB that is not the one it started', async () => {
    const port = Number(new URL(inject('mysqlUrl')).port);
    await expect(startMariaDb({ port })).rejects.toThrow(/exited/);
  });
});

describe('local servers and signals', () => {
  it('starts each server in a process group of its own', async () => {
    const redis = await startRedis();
    try {
      // /proc/<pid>/stat: pid (comm) state ppid pgrp ...
      const fields = readFileSync(`/proc/${redis.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      expect(Number(fields[2])).toBe(redis.pid);
    } finally {
      await redis.stop();
    }
  });

  it('kills a server when the process that started it exits without stopping it', async () => {
    const module = new URL('../../src/local-servers/index.ts', import.meta.url).pathname;
    const script = `const { startRedis } = await import(${JSON.stringify(module)}); const r = await startRedis(); console.log(r.pid); process.exit(0);`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    await waitUntil('the orphaned server is gone', () => !alive(pid), 10_000);
  });
});
