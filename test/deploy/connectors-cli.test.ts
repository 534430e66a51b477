/**
 * `outbox-cache connectors apply|status` end to end against the Kafka Connect REST test double,
 * with the shipped connector file.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorsApplyCommand } from '../../src/cli/commands/connectors-apply.js';
import { connectorsStatusCommand } from '../../src/cli/commands/connectors-status.js';
import { ACCESS_DENIED_TRACE, KafkaConnectDouble } from './kafka-connect-double.js';
import { runCommand } from './cli-context.js';

const FILE = 'connectors/outbox-mysql.json';
const NAME = 'outbox-mysql';
const ENV = { DEBEZIUM_DB_HOST: 'mysql', DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS: 'kafka:9092' };

// Each test gets its own double: the connector name comes from the shipped file.
let connect: KafkaConnectDouble;
const doubles: KafkaConnectDouble[] = [];
async function freshConnect(): Promise<KafkaConnectDouble> {
  connect = await KafkaConnectDouble.start();
  doubles.push(connect);
  return connect;
}
afterAll(async () => {
  await Promise.all(doubles.map((d) => d.stop()));
});

const apply = (extra: string[] = [], env: Record<string, string> = ENV) =>
  runCommand(connectorsApplyCommand, [FILE, '--connect-url', connect.url, ...extra], env);

describe('connectors apply', () => {
  beforeAll(freshConnect);

  it('creates the connector from the shipped file and exits 0 once it runs', async () => {
    connect.script(NAME, { pollsUntilReady: 2 });
    const run = await apply();
    expect(run.stderr).toContain(`connector ${NAME}: configuration created`);
    expect(run.stdout).toMatch(/^connector outbox-mysql \(configuration created\) RUNNING at http:\/\/127\.0\.0\.1:\d+: connector RUNNING on 10\.9\.8\.7:8083; task 0 RUNNING/);
    expect(run.code).toBe(0);
    const put = connect.requests.find((r) => r.method === 'PUT');
    expect(put?.path).toBe('/connectors/outbox-mysql/config');
    const sent = put?.body as Record<string, string>;
    expect(sent['database.hostname']).toBe('mysql');
    expect(sent['database.port']).toBe('3306');
    expect(sent['table.include.list']).toBe('app.outbox');
    expect(sent['database.password']).toBe('${env:DEBEZIUM_DB_PASSWORD}');
    expect(sent['transforms.outbox.route.topic.replacement']).toBe('outbox.event.${routedByValue}');
    expect(JSON.stringify(sent)).not.toMatch(/\$\{[A-Z]/);
  });

  it('is idempotent: a second apply writes nothing and exits 0', async () => {
    const run = await apply();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('(configuration unchanged) RUNNING');
    expect(connect.count('PUT', '/config')).toBe(1);
  });

  it('uses KAFKA_CONNECT_URL when --connect-url is absent', async () => {
    const run = await runCommand(connectorsApplyCommand, [FILE], { ...ENV, KAFKA_CONNECT_URL: connect.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('(configuration unchanged) RUNNING');
  });
});

describe('connectors apply, failures', () => {
  beforeAll(freshConnect);

  it('exits 1 and prints the failed task’s trace readably', async () => {
    connect.script(NAME, { failWith: { trace: ACCESS_DENIED_TRACE }, pollsUntilReady: 1 });
    const run = await apply();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('connector outbox-mysql (configuration created) FAILED');
    expect(run.stderr).toContain('task 0 FAILED on worker 10.9.8.7:8083\n');
    expect(run.stderr).toContain('  caused by: io.debezium.DebeziumException: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s)');
    expect(run.stderr).toContain('\n      at io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)\n');
    expect(run.stderr).not.toContain('\\n\\tat');
    const full = await runCommand(connectorsStatusCommand, [NAME, '--connect-url', connect.url, '--full-trace']);
    expect(full.code).toBe(1);
    expect(full.stderr).toContain('at java.base/java.lang.Thread.run(Thread.java:1583)');
  });

  it('exits 1 with Connect’s message when it refuses the configuration', async () => {
    connect.script(NAME, { rejectWith: ["database.user: Access denied for user 'debezium'@'10.0.0.9' (using password: YES)"] });
    const run = await apply([], { ...ENV, DEBEZIUM_DB_USER: 'other' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('HTTP 400');
    expect(run.stderr).toContain("database.user: Access denied for user 'debezium'@'10.0.0.9'");
    expect(run.stderr).toContain('[CONNECT_INVALID_CONFIG]');
  });

  it('exits 1 when the connector does not run before --timeout', async () => {
    connect.script(NAME, { pollsUntilReady: 1_000_000 });
    const run = await apply(['--timeout', '700ms'], { ...ENV, DEBEZIUM_DB_PORT: '3307' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/connector outbox-mysql \(configuration updated\) not RUNNING after 0\.7s: /);
  });

  it('exits 1 and says how to resume a paused connector', async () => {
    connect.script(NAME, { paused: true, pollsUntilReady: 1 });
    const run = await apply([], { ...ENV, DEBEZIUM_DB_PORT: '3308' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is PAUSED: it will not run until resumed \(PUT http:\/\/127\.0\.0\.1:\d+\/connectors\/outbox-mysql\/resume\)/);
  });
});

describe('connectors apply, usage and configuration', () => {
  beforeAll(freshConnect);

  it.each([
    [[], /expected <file\.json>, got 0 argument/],
    [[FILE, 'extra'], /expected <file\.json>, got 2 argument/],
    [[FILE, '--timeout', 'soon'], /--timeout: 'soon' is not a duration/],
    [[FILE, '--bogus'], /--bogus: unknown option/],
    [['connectors/does-not-exist.json'], /connectors\/does-not-exist\.json: cannot read/],
    [[FILE, '--connect-url', 'ftp://connect:8083'], /must be http or https/],
  ])('%j exits 2', async (argv, message) => {
    const run = await runCommand(connectorsApplyCommand, argv, ENV);
    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(connect.requests).toHaveLength(0);
  });

  it('exits 2 listing every unset variable, before any request', async () => {
    const run = await runCommand(connectorsApplyCommand, [FILE, '--connect-url', connect.url], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DEBEZIUM_DB_HOST: not set (used by database.hostname)');
    expect(run.stderr).toContain('DEBEZIUM_KAFKA_BOOTSTRAP_SERVERS: not set (used by schema.history.internal.kafka.bootstrap.servers)');
    expect(connect.requests).toHaveLength(0);
  });

  it('--dry-run prints the resolved configuration and sends nothing', async () => {
    const run = await runCommand(connectorsApplyCommand, [FILE, '--dry-run'], { ...ENV, OUTBOX_TABLE: 'events' });
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { name: string; config: Record<string, string> };
    expect(printed.name).toBe(NAME);
    expect(printed.config['table.include.list']).toBe('app.events');
    expect(printed.config['database.password']).toBe('${env:DEBEZIUM_DB_PASSWORD}');
    expect(connect.requests).toHaveLength(0);
  });
});

describe('connectors apply, reaching Kafka Connect', () => {
  beforeAll(freshConnect);

  it('sends user:password from the URL as basic auth and never prints the password', async () => {
    connect.requireBasicAuth('admin', 'pa:ss w0rd');
    connect.script(NAME, { pollsUntilReady: 1 });
    const url = new URL(connect.url);
    url.username = 'admin';
    url.password = encodeURIComponent('pa:ss w0rd');
    const ok = await runCommand(connectorsApplyCommand, [FILE, '--connect-url', url.toString()], ENV);
    expect(ok.code).toBe(0);
    const refused = await runCommand(connectorsApplyCommand, [FILE, '--connect-url', connect.url], ENV);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('HTTP 401');
    expect(refused.stderr).toContain('[CONNECT_UNAUTHORIZED]');
    for (const text of [ok.stdout, ok.stderr, refused.stdout, refused.stderr]) expect(text).not.toContain('w0rd');
  });

  it('keeps retrying an unreachable worker until --timeout, then exits 1', async () => {
    const port = await closedPort();
    const run = await runCommand(connectorsApplyCommand, [FILE, '--connect-url', `http://127.0.0.1:${port}`, '--timeout', '1s'], ENV);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Kafka Connect not ready \(GET http:\/\/127\.0\.0\.1:\d+\/connectors\/outbox-mysql\/config: Kafka Connect unreachable \(ECONNREFUSED\)\); retrying/);
    expect(run.stderr).toContain('[CONNECT_UNREACHABLE]');
  });
});

describe('connectors status', () => {
  beforeAll(freshConnect);

  it('exits 0 for a running connector, 1 for a missing one, 2 on bad usage', async () => {
    connect.script(NAME, { pollsUntilReady: 1 });
    expect((await apply()).code).toBe(0);
    const running = await runCommand(connectorsStatusCommand, [NAME, '--connect-url', connect.url]);
    expect(running).toMatchObject({ code: 0, stdout: 'connector outbox-mysql: connector RUNNING on 10.9.8.7:8083; task 0 RUNNING on 10.9.8.7:8083\n' });
    const missing = await runCommand(connectorsStatusCommand, ['nope', '--connect-url', connect.url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/connector nope: not found at http:\/\/127\.0\.0\.1:\d+/);
    expect((await runCommand(connectorsStatusCommand, ['--connect-url', connect.url])).code).toBe(2);
    const wrongFlag = await runCommand(connectorsStatusCommand, [NAME, '--timeout', '5s']);
    expect(wrongFlag.code).toBe(2);
    expect(wrongFlag.stderr).toContain('--timeout: not an option of this command');
  });

  it('is reachable through the outbox-cache entry point', async () => {
    const result = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'connectors', 'status', NAME, '--connect-url', connect.url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(result.out).toContain('connector outbox-mysql: connector RUNNING');
    expect(result.code).toBe(0);
  });
});

/** A TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
