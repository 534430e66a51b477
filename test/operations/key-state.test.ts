/** Decoding of every stored form (guard v2 layout) for `inspect`, and the auditor's verdict. */
import { describe, expect, it } from 'vitest';
import { bindKeySql, decodeKeyState, formatKeyState, splitKey, verdictOf } from '../../src/operations/key-state.js';

const TOKEN = '0123456789abcdef0123456789abcdef';
const state = (raw: string, ttl = 5000) => decodeKeyState('k', 'string', ttl, Buffer.byteLength(raw), Buffer.from(raw).subarray(0, 128));

describe('key state', () => {
  it('decodes entries, absent, tombstones and leases with and without kept stale bytes', () => {
    expect(state('E42:{"a":1}')).toMatchObject({ kind: 'entry', version: 42n, valueBytes: 7, ttlMs: 5000 });
    expect(state('A7:')).toMatchObject({ kind: 'absent', version: 7n });
    expect(state('T9:')).toMatchObject({ kind: 'tombstone', version: 9n, stale: undefined });
    expect(state('T9:1700000000123:8:hello')).toMatchObject({ kind: 'tombstone', version: 9n, stale: { version: 8n, invalidatedAtMs: 1700000000123, bytes: 5 } });
    expect(state(`L0:${TOKEN}`)).toMatchObject({ kind: 'lease', version: 0n, leaseToken: TOKEN, stale: undefined });
    expect(state(`L9:${TOKEN}:1700000000123:8:${'x'.repeat(300)}`)).toMatchObject({ kind: 'lease', version: 9n, leaseToken: TOKEN, stale: { version: 8n, bytes: 300 } });
  });

  it('sizes a large entry from its length, not from the bytes read', () => {
    const s = decodeKeyState('k', 'string', -1, 1_000_005, Buffer.from(`E1:${'x'.repeat(125)}`));
    expect(s).toMatchObject({ kind: 'entry', valueBytes: 1_000_002, ttlMs: undefined });
  });

  it('tells missing keys, foreign strings and other types apart', () => {
    expect(decodeKeyState('k', 'none', -2, 0, Buffer.alloc(0)).kind).toBe('missing');
    expect(state('hello').kind).toBe('foreign');
    expect(state('E01:x').kind).toBe('foreign');
    expect(decodeKeyState('k', 'hash', -1, 0, Buffer.alloc(0)).kind).toBe('wrong-type');
  });

  it('judges like the auditor: missing, tombstone, lease consistent; entry/absent stale only below the database', () => {
    expect(verdictOf(state('E5:x'), 6n)).toBe('stale');
    expect(verdictOf(state('E5:x'), 5n)).toBe('consistent');
    expect(verdictOf(state('E5:x'), null)).toBe('stale');
    expect(verdictOf(state('A5:'), 6n)).toBe('stale');
    expect(verdictOf(state('A5:'), null)).toBe('consistent');
    expect(verdictOf(state('T5:'), 9n)).toBe('consistent');
    expect(verdictOf(state(`L5:${TOKEN}`), 9n)).toBe('consistent');
    expect(verdictOf(decodeKeyState('k', 'none', -2, 0, Buffer.alloc(0)), 9n)).toBe('consistent');
    expect(verdictOf(state('E5:x'), undefined)).toBe('unknown');
  });

  it('binds :id and :namespace from the key', () => {
    const parts = splitKey('app:product:42:x', 'app:')!;
    expect(parts).toEqual({ namespace: 'product', id: '42:x' });
    expect(bindKeySql('SELECT version FROM outbox_version WHERE aggregatetype = :namespace AND aggregateid = :id', parts))
      .toEqual({ sql: 'SELECT version FROM outbox_version WHERE aggregatetype = ? AND aggregateid = ?', params: ['product', '42:x'] });
    expect(splitKey('other:product:1', 'app:')).toBeUndefined();
  });

  it('prints no value bytes', () => {
    expect(formatKeyState(state('E5:secret'), 'stale', 6n)).toBe('k  entry  version=5  ttl=5000ms  value=6B  db=6  stale');
  });
});
