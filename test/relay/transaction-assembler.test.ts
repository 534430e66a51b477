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

  it('drops rows undone by ROLLBACK TO SAVEPOINT, keeping those before it and after it', () => {
    expect(run([
      { kind: 'begin', transactional: false },
      { kind: 'inserts', rows: [outboxRow('a', 1)] },
      { kind: 'savepoint', name: 'one' },
      { kind: 'inserts', rows: [outboxRow('b', 2)] },
      { kind: 'savepoint', name: 'two' },
      { kind: 'inserts', rows: [outboxRow('c', 3)] },
      { kind: 'rollback-to', name: 'two' },
      { kind: 'inserts', rows: [outboxRow('d', 4)] },
      { kind: 'rollback-to', name: 'one' },
      { kind: 'inserts', rows: [outboxRow('e', 5)] },
      { kind: 'rollback-to', name: 'two' },
      { kind: 'commit', nextPosition: 80 },
    ]).map((t) => t.ids)).toEqual([['a', 'e']]);
  });

  it('hands over a transactional group in chunks before its commit, and the rest with the commit', () => {
    const assembler = new TransactionAssembler('f', { chunkEvents: 2 });
    assembler.feed({ kind: 'begin', transactional: true });
    assembler.feed({ kind: 'inserts', rows: [outboxRow('a', 1), outboxRow('b', 2), outboxRow('c', 3)] });
    expect(assembler.takeChunk()?.map((e) => e.id)).toEqual(['a', 'b']);
    expect(assembler.takeChunk()).toBeUndefined();
    assembler.feed({ kind: 'inserts', rows: [outboxRow('d', 4), outboxRow('e', 5)] });
    expect(assembler.takeChunk()?.map((e) => e.id)).toEqual(['c', 'd']);
    const tx = assembler.feed({ kind: 'commit', nextPosition: 99 });
    expect(tx?.events.map((e) => e.id)).toEqual(['e']);
    expect(tx?.position).toEqual({ file: 'f', position: 99 });
  });

  it('keeps a group that may roll back (non-transactional tables, a savepoint, rows outside BEGIN) whole until its end', () => {
    const rows = [outboxRow('a', 1), outboxRow('b', 2), outboxRow('c', 3)];
    for (const opening of [[{ kind: 'begin', transactional: false }], [{ kind: 'begin' }, { kind: 'savepoint', name: 's' }], []] as TailItem[][]) {
      const assembler = new TransactionAssembler('f', { chunkEvents: 1 });
      for (const item of opening) assembler.feed(item);
      assembler.feed({ kind: 'inserts', rows });
      expect(assembler.takeChunk()).toBeUndefined();
      expect(assembler.feed({ kind: 'rollback', nextPosition: 5 })?.events).toEqual([]);
    }
  });

  it('moves the position on heartbeats and rotations between transactions only, as quiet steps', () => {
    const assembler = new TransactionAssembler('binlog.000001');
    expect(assembler.feed({ kind: 'heartbeat', file: 'binlog.000001', position: 700 })).toMatchObject({ position: { file: 'binlog.000001', position: 700 }, quiet: true, events: [] });
    expect(assembler.feed({ kind: 'rotate', file: 'binlog.000002', position: 4 })).toMatchObject({ position: { file: 'binlog.000002', position: 4 }, quiet: true });
    // A heartbeat naming another file than the stream's is not a position of this stream.
    expect(assembler.feed({ kind: 'heartbeat', file: 'binlog.000001', position: 900 })).toBeUndefined();
    assembler.feed({ kind: 'begin' });
    expect(assembler.feed({ kind: 'heartbeat', file: 'binlog.000002', position: 800 })).toBeUndefined();
    expect(assembler.feed({ kind: 'commit', nextPosition: 850 })).toMatchObject({ quiet: false });
  });
});
