import { describe, expect, it } from 'vitest';
import { RelayError } from '../../src/relay/errors.js';
import { TransactionAssembler, type TailItem } from '../../src/relay/transaction-assembler.js';

function outboxRow(id: string, version: number): Record<string, unknown> {
  return { id, aggregatetype: 'user', aggregateid: '1', type: 'T', version, occurred_at: '2026-01-01 00:00:00.000', payload: Buffer.from([0]) };
}

/** Feeds items and returns what each completed transaction carried: ids, position, own flag. */
function run(items: TailItem[], startFile = 'binlog.000001') {
  const assembler = new TransactionAssembler(startFile);
  return items.flatMap((item) => {
    const tx = assembler.feed(item);
    return tx ? [{ ids: tx.events.map((e) => e.id), at: `${tx.position.file}:${tx.position.position}`, own: tx.ownCheckpoint, invalid: tx.invalid.length }] : [];
  });
}

describe('TransactionAssembler', () => {
  it('groups a MariaDB transaction (GTID event, rows, XID) and ends it at the XID position', () => {
    expect(run([
      { kind: 'rotate', file: 'binlog.000003' },
      { kind: 'begin' },
      { kind: 'inserts', rows: [outboxRow('a', 1), outboxRow('b', 2)] },
      { kind: 'inserts', rows: [outboxRow('c', 3)] },
      { kind: 'commit', nextPosition: 900 },
    ])).toEqual([{ ids: ['a', 'b', 'c'], at: 'binlog.000003:900', own: false, invalid: 0 }]);
  });

  it('treats a MySQL BEGIN query the same way and ignores statements inside a transaction', () => {
    expect(run([
      { kind: 'begin' },
      { kind: 'inserts', rows: [outboxRow('a', 1)] },
      { kind: 'statement', nextPosition: 0 },
      { kind: 'commit', nextPosition: 500 },
    ])).toEqual([{ ids: ['a'], at: 'binlog.000001:500', own: false, invalid: 0 }]);
  });

  it('discards the rows of a logged ROLLBACK but still ends the transaction there', () => {
    expect(run([
      { kind: 'begin' },
      { kind: 'inserts', rows: [outboxRow('a', 1)] },
      { kind: 'rollback', nextPosition: 700 },
    ])).toEqual([{ ids: [], at: 'binlog.000001:700', own: false, invalid: 0 }]);
  });

  it('makes a standalone statement (DDL) a boundary of its own', () => {
    expect(run([{ kind: 'statement', nextPosition: 321 }])).toEqual([{ ids: [], at: 'binlog.000001:321', own: false, invalid: 0 }]);
  });

  it('recognises the relay\'s own checkpoint transactions', () => {
    expect(run([
      { kind: 'begin' }, { kind: 'checkpoint-table' }, { kind: 'commit', nextPosition: 10 },
      { kind: 'begin' }, { kind: 'commit', nextPosition: 20 },
    ]).map((t) => t.own)).toEqual([true, false]);
  });

  it('follows rotations: positions after a rotate name the new file', () => {
    expect(run([
      { kind: 'begin' }, { kind: 'commit', nextPosition: 1000 },
      { kind: 'rotate', file: 'binlog.000002' },
      { kind: 'begin' }, { kind: 'inserts', rows: [outboxRow('x', 1)] }, { kind: 'commit', nextPosition: 400 },
    ]).map((t) => t.at)).toEqual(['binlog.000001:1000', 'binlog.000002:400']);
  });

  it('forgets a partial transaction on reset (a broken stream is replayed from a boundary)', () => {
    const assembler = new TransactionAssembler('f');
    assembler.feed({ kind: 'begin' });
    assembler.feed({ kind: 'inserts', rows: [outboxRow('lost', 1)] });
    assembler.reset();
    assembler.feed({ kind: 'begin' });
    assembler.feed({ kind: 'inserts', rows: [outboxRow('kept', 2)] });
    expect(assembler.feed({ kind: 'commit', nextPosition: 5 })?.events.map((e) => e.id)).toEqual(['kept']);
  });

  it('skips rows that cannot be events and reports them, keeping the others', () => {
    const bad = { ...outboxRow('bad', 1), aggregatetype: 'no-dash' };
    expect(run([{ kind: 'begin' }, { kind: 'inserts', rows: [bad, outboxRow('ok', 2)] }, { kind: 'commit', nextPosition: 9 }]))
      .toEqual([{ ids: ['ok'], at: 'binlog.000001:9', own: false, invalid: 1 }]);
  });

  it('refuses outbox rows in an XA PREPARE group and accepts XA groups without them', () => {
    const assembler = new TransactionAssembler('f');
    assembler.feed({ kind: 'begin' });
    expect(assembler.feed({ kind: 'xa-prepare', nextPosition: 3 })?.events).toEqual([]);
    assembler.feed({ kind: 'begin' });
    assembler.feed({ kind: 'inserts', rows: [outboxRow('a', 1)] });
    expect(() => assembler.feed({ kind: 'xa-prepare', nextPosition: 4 })).toThrow(RelayError);
  });
});
