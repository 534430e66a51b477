/**
 * `outbox-cache sink` as a process: killed with SIGKILL mid-stream and restarted, it loses no
 * record (decoding with its own record batch decoder); SIGTERM stops it with exit code 0; bad
 * configuration exits 2 listing every problem.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import { freePort } from '../../src/local-servers/process.js';
import { outboxSubject, outboxTopic } from '../../src/outbox/event.js';
import { createTestKafka, createTestRedis, uniqueName, waitUntil } from '../helpers.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { USER_CHANGED_V1, cacheState, committedOffsets, debeziumMessage, debeziumProducer, endOffsets, framed, produceAll } from './harness.js';

const kafka = createTestKafka();
const { redis, prefix } = createTestRedis();
let registry: SchemaRegistryDouble;
let producer: Producer;
let admin: Admin;
const children: ChildProcess[] = [];
beforeAll(async () => {
  [registry, producer] = await Promise.all([startSchemaRegistryDouble(), debeziumProducer(kafka)]);
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.allSettled([producer?.disconnect(), admin?.disconnect(), registry?.close()]);
  redis.disconnect();
});

interface SinkProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
}

function spawnSink(env: Record<string, string>, args: string[] = []): SinkProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sink', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function httpStatus(port: number, path: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  } catch {
    return 0;
  }
}

it('loses no record when killed with SIGKILL mid-stream and restarted, then exits 0 on SIGTERM', async () => {
  const type = uniqueName('usr');
  const topic = outboxTopic(type);
  const schemaId = registry.store.register(outboxSubject(type), JSON.stringify(USER_CHANGED_V1));
  const keys = 200;
  const versions = 12;
  const wave = (from: number, to: number) => {
    const out = [];
    for (let v = from; v <= to; v++) {
      for (let k = 0; k < keys; k++) {
        out.push(debeziumMessage({ aggregateId: `k${k}`, version: v, payload: framed(USER_CHANGED_V1, schemaId, { id: k, name: 'n', email: null, version: v }) }));
      }
    }
    return out;
  };
  await produceAll(producer, topic, wave(1, 6));
  const groupId = uniqueName('sink');
  const keyPrefix = `${prefix}proc:`;
  const port = await freePort();
  const env = {
    KAFKA_BROKERS: inject('kafkaBrokers').join(','), KAFKA_TOPICS: topic, KAFKA_GROUP_ID: groupId, KAFKA_SESSION_TIMEOUT_MS: '6000',
    SCHEMA_REGISTRY_URL: registry.url, REDIS_URL: inject('redisUrl'), DLQ_TOPIC: uniqueName('dlq'), CACHE_KEY_PREFIX: keyPrefix,
    METRICS_PORT: String(port), METRICS_HOST: '127.0.0.1', LOG_LEVEL: 'warn', SINK_BATCH_SIZE: '100',
  };
  const state = () => cacheState(redis, keyPrefix);

  const first = spawnSink(env);
  await waitUntil('the first sink applied part of the stream', async () => (await state()).size > 0, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${first.output()}`);
  });
  first.child.kill('SIGKILL');
  expect(await first.exited).toBeNull();
  // The stream goes on while the sink is dead; whatever it applied but had not committed is re-read.
  await produceAll(producer, topic, wave(7, versions));

  const second = spawnSink({ ...env, LOG_LEVEL: 'info' });
  await waitUntil('every key at its newest version, every offset committed', async () => {
    const s = await state();
    if (s.size !== keys || ![...s.values()].every((v) => v.version === BigInt(versions))) return false;
    const [c, ends] = await Promise.all([committedOffsets(admin, groupId, topic), endOffsets(admin, topic)]);
    return [...ends].every(([p, end]) => end === 0n || c.get(p) === end);
  }, 45_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${second.output()}`);
  });
  expect(await httpStatus(port, '/healthz')).toBe(200);
  await waitUntil('/readyz answers 200', async () => (await httpStatus(port, '/readyz')) === 200);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toMatch(/outbox_sink_records_applied_total\{topic="[^"]+"\} \d+/);
  expect(metrics).toContain('outbox_sink_commit_to_apply_seconds_bucket');

  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
  // Logs are structured: one JSON object per line.
  const lines = second.output().split('\n').filter((line) => line.trim() !== '');
  expect(lines.length).toBeGreaterThan(0);
  const logged = lines.map((line) => JSON.parse(line) as { msg?: string; recordDecoder?: string });
  expect(logged.map((l) => l.msg)).toEqual(expect.arrayContaining(['sink started', 'sink stopped']));
  // The process decoded its records with the sink's own record batch decoder (KAFKA_RECORD_DECODER=lean).
  expect(logged.find((l) => l.msg === 'record batch decoder')?.recordDecoder).toBe('installed');
});

it('exits 2 listing every configuration problem at once', async () => {
  const bad = spawnSink({ METRICS_PORT: 'x', KAFKA_SASL_MECHANISM: 'nope' }, ['--bogus']);
  expect(await bad.exited).toBe(2);
  for (const name of ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'REDIS_URL', 'METRICS_PORT', 'KAFKA_SASL_MECHANISM', '--bogus']) {
    expect(bad.output()).toContain(name);
  }
});
