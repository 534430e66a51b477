import { describe, expect, it } from 'vitest';
import {
  assessStatus,
  describeStatus,
  formatFailure,
  parseConnectorStatus,
  traceCauses,
  type ConnectorStatus,
} from '../../src/connect/status.js';
import { sameConfig } from '../../src/connect/apply.js';
import { ACCESS_DENIED_TRACE } from './kafka-connect-double.js';

const W = '10.0.0.5:8083';
function status(connector: string, ...tasks: [string, string?][]): ConnectorStatus {
  const parsed = parseConnectorStatus({
    name: 'c',
    connector: { state: connector, worker_id: W },
    tasks: tasks.map(([state, trace], id) => (trace ? { id, state, worker_id: W, trace } : { id, state, worker_id: W })),
    type: 'source',
  });
  if (!parsed) throw new Error('fixture did not parse');
  return parsed;
}

describe('parseConnectorStatus', () => {
  it('reads Connect status JSON and refuses other shapes', () => {
    expect(status('RUNNING', ['FAILED', 'boom']).tasks[0]).toEqual({ id: 0, state: 'FAILED', workerId: W, trace: 'boom' });
    expect(parseConnectorStatus({ name: 'c', connector: { state: 'RUNNING' } })).toBeUndefined();
    expect(parseConnectorStatus({ name: 'c', connector: {}, tasks: [] })).toBeUndefined();
    expect(parseConnectorStatus('nope')).toBeUndefined();
  });
});

describe('assessStatus', () => {
  it.each([
    [status('RUNNING', ['RUNNING']), 'running'],
    [status('RUNNING', ['RUNNING'], ['RUNNING']), 'running'],
    [status('RUNNING'), 'pending'],
    [status('UNASSIGNED'), 'pending'],
    [status('RUNNING', ['UNASSIGNED']), 'pending'],
    [status('RESTARTING', ['RESTARTING']), 'pending'],
    [status('RUNNING', ['RUNNING'], ['FAILED', 'x']), 'failed'],
    [status('FAILED'), 'failed'],
    [status('PAUSED', ['PAUSED']), 'halted'],
    [status('STOPPED'), 'halted'],
    [status('RUNNING', ['PAUSED']), 'halted'],
  ])('%# → %s', (s, kind) => {
    expect(assessStatus(s).kind).toBe(kind);
  });

  it('treats failures the caller marks stale as pending', () => {
    const s = status('RUNNING', ['FAILED', 'old trace']);
    expect(assessStatus(s, (f) => f.trace === 'old trace')).toEqual({ kind: 'pending', reason: expect.stringMatching(/restarted/) });
    expect(assessStatus(s, (f) => f.trace === 'other').kind).toBe('failed');
  });

  it('names every failed part, connector first', () => {
    const s = parseConnectorStatus({
      name: 'c',
      connector: { state: 'FAILED', worker_id: W, trace: 'c-trace' },
      tasks: [{ id: 1, state: 'FAILED', worker_id: W, trace: 't1' }, { id: 0, state: 'RUNNING', worker_id: W }],
    })!;
    const verdict = assessStatus(s);
    expect(verdict.kind === 'failed' && verdict.failures.map((f) => f.what)).toEqual(['connector', 'task 1']);
  });
});

describe('describeStatus', () => {
  it('puts the connector and each task on one line', () => {
    expect(describeStatus(status('RUNNING', ['RUNNING'], ['FAILED', 'x']))).toBe(
      `connector RUNNING on ${W}; task 0 RUNNING on ${W}; task 1 FAILED on ${W}`,
    );
    expect(describeStatus(status('UNASSIGNED'))).toBe(`connector UNASSIGNED on ${W}; no tasks`);
  });
});

describe('failure traces', () => {
  it('extracts the chain of causes from a Java trace', () => {
    expect(traceCauses(ACCESS_DENIED_TRACE)).toEqual([
      'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.',
      'io.debezium.DebeziumException: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation Error code: 1227; SQLSTATE: 42000.',
      'com.github.shyiko.mysql.binlog.network.ServerException: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation',
    ]);
  });

  it('joins a message that spans lines', () => {
    expect(traceCauses('java.lang.IllegalStateException: first\nsecond line\n\tat a.B.c(B.java:1)')).toEqual([
      'java.lang.IllegalStateException: first second line',
    ]);
  });

  it('prints causes first, then the trace with real line breaks and a bounded number of frames', () => {
    const text = formatFailure({ what: 'task 0', workerId: W, trace: ACCESS_DENIED_TRACE }, 2);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`task 0 FAILED on worker ${W}`);
    expect(lines[1]).toMatch(/^ {2}error: org\.apache\.kafka\.connect\.errors\.ConnectException/);
    expect(lines[2]).toMatch(/^ {2}caused by: io\.debezium\.DebeziumException: Access denied/);
    expect(lines[3]).toMatch(/^ {2}caused by: com\.github\.shyiko/);
    expect(lines).toContain('      at io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)');
    expect(lines).toContain('        ... 4 more frames (--full-trace shows them)');
    expect(lines).toContain('      ... 5 more');
    expect(text).not.toContain('\\n');
    expect(text).not.toContain('\t');
    const full = formatFailure({ what: 'task 0', workerId: W, trace: ACCESS_DENIED_TRACE }, Infinity);
    expect(full).toContain('at java.base/java.lang.Thread.run(Thread.java:1583)');
    expect(full).not.toContain('more frames');
  });

  it('says so when Connect gave no trace', () => {
    expect(formatFailure({ what: 'connector', workerId: '', trace: '' })).toBe('connector FAILED (Kafka Connect gave no trace)');
  });
});

describe('sameConfig', () => {
  it('ignores the name Connect adds and the order of keys, nothing else', () => {
    expect(sameConfig({ name: 'c', a: '1', b: '2' }, { b: '2', a: '1' })).toBe(true);
    expect(sameConfig({ name: 'c', a: '1', b: '2' }, { a: '1', b: '3' })).toBe(false);
    expect(sameConfig({ name: 'c', a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(sameConfig({ name: 'c', a: '1', b: '2' }, { a: '1' })).toBe(false);
  });
});
