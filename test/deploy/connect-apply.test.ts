/**
 * applyConnector / waitUntilRunning against the Kafka Connect REST test double, polling fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyConnector, waitUntilRunning, type ApplyOptions } from '../../src/connect/apply.js';
import { KafkaConnectClient, ConnectRestError } from '../../src/connect/rest-client.js';
import { ACCESS_DENIED_TRACE, KafkaConnectDouble } from './kafka-connect-double.js';
import { uniqueName } from '../helpers.js';

let connect: KafkaConnectDouble;
let client: KafkaConnectClient;
const fast: ApplyOptions = { timeoutMs: 5_000, pollIntervalMs: 10 };

beforeAll(async () => {
  connect = await KafkaConnectDouble.start();
  client = new KafkaConnectClient({ url: connect.url });
});
afterAll(async () => {
  await connect.stop();
});

const spec = (name: string, host = 'mysql') => ({
  name,
  config: { 'connector.class': 'io.debezium.connector.mysql.MySqlConnector', 'database.hostname': host },
});

describe('applyConnector', () => {
  it('creates, then leaves an identical configuration alone, then updates a changed one', async () => {
    const name = uniqueName('c');
    connect.script(name, { pollsUntilReady: 3 });
    const first = await applyConnector(client, spec(name), fast);
    expect(first.change).toBe('created');
    expect(first.outcome.kind).toBe('running');
    expect(connect.storedConfig(name)).toEqual({ ...spec(name).config, name });

    const again = await applyConnector(client, spec(name), fast);
    expect(again.change).toBe('unchanged');
    expect(again.outcome.kind).toBe('running');
    expect(connect.count('PUT', `/${name}/config`)).toBe(1);

    const changed = await applyConnector(client, spec(name, 'mysql-2'), fast);
    expect(changed.change).toBe('updated');
    expect(connect.count('PUT', `/${name}/config`)).toBe(2);
    expect(connect.storedConfig(name)?.['database.hostname']).toBe('mysql-2');
  });

  it('reports a failed task with its trace', async () => {
    const name = uniqueName('c');
    connect.script(name, { failWith: { trace: ACCESS_DENIED_TRACE } });
    const result = await applyConnector(client, spec(name), fast);
    expect(result.outcome.kind).toBe('failed');
    if (result.outcome.kind !== 'failed') return;
    expect(result.outcome.failures).toEqual([{ what: 'task 0', workerId: '10.9.8.7:8083', trace: ACCESS_DENIED_TRACE }]);
  });

  it('does not take the stale FAILED report Connect gives right after a change for a new failure', async () => {
    const name = uniqueName('c');
    connect.script(name, { failWith: { trace: ACCESS_DENIED_TRACE } });
    expect((await applyConnector(client, spec(name), fast)).outcome.kind).toBe('failed');
    // The operator fixes the cause and applies a corrected configuration; Connect keeps reporting
    // the old failure for a few polls.
    connect.script(name, { stalePolls: 4 });
    const fixed = await applyConnector(client, spec(name, 'mysql-fixed'), fast);
    expect(fixed.change).toBe('updated');
    expect(fixed.outcome.kind).toBe('running');
  });

  it('reports a failure that persists after the settle time even if it looks like the old one', async () => {
    const name = uniqueName('c');
    connect.script(name, { failWith: { trace: ACCESS_DENIED_TRACE } });
    await applyConnector(client, spec(name), fast);
    const again = await applyConnector(client, spec(name, 'still-wrong'), { ...fast, settleMs: 50 });
    expect(again.outcome.kind).toBe('failed');
  });

  it('restarts the failed parts of an unchanged, failed connector', async () => {
    const name = uniqueName('c');
    connect.script(name, { failWith: { trace: ACCESS_DENIED_TRACE } });
    await applyConnector(client, spec(name), fast);
    connect.script(name, {});
    const retried = await applyConnector(client, spec(name), fast);
    expect(retried.change).toBe('restarted');
    expect(retried.outcome.kind).toBe('running');
    expect(connect.requests.some((r) => r.method === 'POST' && r.path === `/connectors/${name}/restart?includeTasks=true&onlyFailed=true`)).toBe(true);
    expect(connect.count('PUT', `/${name}/config`)).toBe(1);
  });

  it('retries a rebalance (409) until Connect accepts the configuration', async () => {
    const name = uniqueName('c');
    connect.script(name, { rebalances: 2, pollsUntilReady: 1 });
    const lines: string[] = [];
    const result = await applyConnector(client, spec(name), { ...fast, onProgress: (l) => lines.push(l) });
    expect(result.outcome.kind).toBe('running');
    expect(connect.count('PUT', `/${name}/config`)).toBe(3);
    expect(lines.filter((l) => l.includes('HTTP 409'))).toHaveLength(2);
  });

  it('throws a refused configuration at once, with Connect’s validation message', async () => {
    const name = uniqueName('c');
    connect.script(name, { rejectWith: ["database.hostname: Unable to connect: Communications link failure"] });
    const err = await applyConnector(client, spec(name), fast).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectRestError);
    expect((err as ConnectRestError).code).toBe('CONNECT_INVALID_CONFIG');
    expect((err as ConnectRestError).retriable).toBe(false);
    expect((err as Error).message).toContain('Unable to connect: Communications link failure');
    expect(connect.count('PUT', `/${name}/config`)).toBe(1);
  });

  it('stops at the deadline while the connector is still starting', async () => {
    const name = uniqueName('c');
    connect.script(name, { pollsUntilReady: 1_000_000 });
    const started = Date.now();
    const result = await applyConnector(client, spec(name), { timeoutMs: 300, pollIntervalMs: 20 });
    expect(result.outcome.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('returns halted for a paused connector instead of waiting', async () => {
    const name = uniqueName('c');
    connect.script(name, { paused: true, pollsUntilReady: 1 });
    const result = await applyConnector(client, spec(name), fast);
    expect(result.outcome).toMatchObject({ kind: 'halted', state: 'PAUSED' });
  });

  it('stops waiting when aborted', async () => {
    const name = uniqueName('c');
    connect.script(name, { pollsUntilReady: 1_000_000 });
    await applyConnector(client, spec(name), { timeoutMs: 50, pollIntervalMs: 10 });
    const controller = new AbortController();
    const waiting = waitUntilRunning(client, name, { timeoutMs: 60_000, pollIntervalMs: 10, signal: controller.signal });
    setImmediate(() => controller.abort());
    expect((await waiting).kind).toBe('aborted');
  });
});
