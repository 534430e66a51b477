/**
 * Start-up, configuration and CLI hygiene, driving the real CLI entry point in a child process:
 * every problem reported at once (exit 2), failures of servers as one coded paragraph without a
 * stack (exit 1; the stack with LOG_LEVEL=debug), credentials never echoed, and a sink that
 * exits after a start-up error instead of hanging on its open clients.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';

interface Outcome {
  readonly code: number | null;
  readonly out: string;
}

/**
 * Runs `outbox-cache <args>` with exactly `env` (plus PATH); fails the test if it does not exit
 * within `timeoutMs` (generous: starting node with tsx takes tens of seconds on a loaded machine).
 */
function cli(args: string[], env: Record<string, string>, timeoutMs = 150_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`outbox-cache ${args.join(' ')} did not exit within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const STACK_LINE = /\n\s+at /;

// Each case starts node with tsx (one to three times): slow on a loaded machine, hence the timeouts.
describe.concurrent('every problem at once (exit 2)', { timeout: 600_000 }, () => {
  it('run with nothing set names every missing setting', async () => {
    const { code, out } = await cli(['run'], {});
    expect(code).toBe(2);
    for (const name of ['MYSQL_URL', 'REDIS_URL', 'SCHEMA_REGISTRY_URL']) expect(out).toContain(name);
  });

  it('sink: a bad value does not hide cross-setting problems or a bad broker list', async () => {
    const { code, out } = await cli(['sink'], {
      KAFKA_BROKERS: 'not a broker list::', METRICS_PORT: 'x', SCHEMA_REGISTRY_URL: 'https://svc:hunter2@registry', SCHEMA_REGISTRY_USER: 'u', REDIS_URL: 'redis://r:6379',
    });
    expect(code).toBe(2);
    for (const name of ['KAFKA_BROKERS', 'METRICS_PORT', 'SCHEMA_REGISTRY_USER']) expect(out).toContain(name);
    expect(out).not.toContain('hunter2');
  });

  it.each([
    [['migrate', '--bogus'], {}, ['--bogus', 'MYSQL_URL']],
    [['outbox', 'purge', '--older-than', '999999999d', '--nope'], { MYSQL_URL: 'mysql://u:pw@db:3306/app' }, ['--older-than', '--nope']],
    [['schemas', 'check', '--bogus', '--dir'], {}, ['--bogus', '--dir', 'SCHEMA_REGISTRY_URL']],
    [['connectors', 'apply', '--timeout', '5x', '--bogus'], {}, ['--timeout', '--bogus', 'arguments']],
  ] as [string[], Record<string, string>, string[]][])('%j reports every problem', async (args, env, names) => {
    const { code, out } = await cli(args, env);
    expect(code, out).toBe(2);
    for (const name of names) expect(out).toContain(name);
    expect(out).not.toMatch(STACK_LINE);
    expect(out).not.toContain('pw@');
  });
});

describe('failures of servers (exit 1, one coded paragraph)', { timeout: 600_000 }, () => {
  let db: TestDatabase;
  let registry: SchemaRegistryDouble;
  beforeAll(async () => {
    [db, registry] = await Promise.all([createTestDatabase('cli_hygiene'), startSchemaRegistryDouble({ auth: { username: 'demo', password: 'right' } })]);
  });
  afterAll(async () => {
    await Promise.allSettled([db?.drop(), registry?.close()]);
  });

  it('migrate and outbox purge against an unreachable MySQL: coded message, no stack, no password; the stack with LOG_LEVEL=debug', async () => {
    const env = { MYSQL_URL: 'mysql://root:s3cret@127.0.0.1:1/app' };
    for (const args of [['migrate'], ['outbox', 'purge', '--older-than', '1d']]) {
      const { code, out } = await cli(args, env);
      expect(code, out).toBe(1);
      expect(out).toMatch(/^outbox-cache [a-z ]+: .*\[ECONNREFUSED\]\n$/);
      expect(out).not.toContain('s3cret');
    }
    const debug = await cli(['migrate'], { ...env, LOG_LEVEL: 'debug' });
    expect(debug.out).toMatch(STACK_LINE);
  });

  it('demo writer exits 1 when the registry refuses its credentials', async () => {
    const { code, out } = await cli(['demo', 'writer'], {
      MYSQL_URL: db.url, SCHEMA_REGISTRY_URL: registry.url, SCHEMA_REGISTRY_USER: 'demo', SCHEMA_REGISTRY_PASSWORD: 'wrong', DEMO_DURATION: '2s',
    });
    expect(code, out).toBe(1);
    expect(out).toContain('[SCHEMA_REGISTRY_AUTH]');
    expect(out).not.toContain('wrong');
  });
});

describe('sink start-up errors', { timeout: 600_000 }, () => {
  let busy: Server;
  let busyPort = 0;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));
  const base = () => ({
    KAFKA_BROKERS: inject('kafkaBrokers').join(','), SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1', REDIS_URL: inject('redisUrl'), LOG_LEVEL: 'silent',
  });

  it('exits 1 with a clear message when the metrics port is in use or its host does not resolve', async () => {
    const inUse = await cli(['sink'], { ...base(), METRICS_HOST: '127.0.0.1', METRICS_PORT: String(busyPort) });
    expect(inUse.code, inUse.out).toBe(1);
    expect(inUse.out).toMatch(/port is in use.*\[OPS_LISTEN_FAILED\]/);
    const unresolvable = await cli(['sink'], { ...base(), METRICS_HOST: 'no-such-host.invalid', METRICS_PORT: '0' });
    expect(unresolvable.code, unresolvable.out).toBe(1);
    expect(unresolvable.out).toMatch(/does not resolve.*\[OPS_LISTEN_FAILED\]/);
  });

  it('exits 1 with a coded message when Kafka cannot be reached', async () => {
    const { code, out } = await cli(['sink'], { ...base(), KAFKA_BROKERS: '127.0.0.1:1', METRICS_PORT: '0', METRICS_HOST: '127.0.0.1' });
    expect(code, out).toBe(1);
    expect(out).toContain('[KAFKA_UNAVAILABLE]');
    expect(out).not.toMatch(STACK_LINE);
  });
});
