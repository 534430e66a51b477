import { describe, expect, it } from 'vitest';
import { applyGuard, readTooOld } from '../../src/cache/guard-rule.js';
import { decodeStoredValue, encodeStoredValue, formatVersion } from '../../src/cache/stored-value.js';
import { GUARD_CASES } from './guard-cases.js';

const decode = (raw: string | null) => decodeStoredValue(raw === null ? null : Buffer.from(raw, 'latin1'));

describe('guard rule (TypeScript) against the case table', () => {
  it.each(GUARD_CASES)('$name', ({ before, op, outcome, after }) => {
    const result = applyGuard(decode(before), op);
    expect(result.outcome).toBe(outcome);
    // A refused op leaves foreign data as it was; otherwise compare in the stored layout.
    const next = result.outcome === 'stale' ? before : result.next ? encodeStoredValue(result.next).toString('latin1') : null;
    expect(next).toBe(after);
  });
});

describe('read age', () => {
  it('refuses a read older than the maximum age, allows one at the limit', () => {
    expect(readTooOld(1_000, 61_001, 60_000)).toBe(true);
    expect(readTooOld(1_000, 61_000, 60_000)).toBe(false);
  });
});

describe('stored value layout', () => {
  it('round-trips every state, binary data and the largest version', () => {
    const max = 2n ** 63n - 1n;
    for (const value of [
      { state: 'entry', version: max, data: Buffer.from([0x3a, 0, 0xff]) },
      { state: 'absent', version: 7n, data: Buffer.alloc(0) },
      { state: 'tombstone', version: 1n, data: Buffer.alloc(0) },
      { state: 'lease', version: 0n, data: Buffer.from('abc') },
    ] as const) {
      expect(decodeStoredValue(encodeStoredValue(value))).toEqual(value);
    }
    expect(encodeStoredValue({ state: 'entry', version: 42n, data: Buffer.from('x') }).toString()).toBe('E42:x');
  });

  it('treats missing keys and foreign strings as no state', () => {
    for (const raw of [null, '', 'E5', 'hello', 'Q5:x', 'E:x', 'E05:x', 'E5a:x', `E${'1'.repeat(20)}:x`]) {
      expect(decode(raw)).toBeUndefined();
    }
  });

  it('refuses versions outside 0 .. 2^63-1', () => {
    expect(() => formatVersion(-1n)).toThrow(/outside/);
    expect(() => formatVersion(2n ** 63n)).toThrow(/outside/);
    expect(formatVersion(2n ** 63n - 1n)).toBe('9223372036854775807');
  });
});
