import { describe, expect, it } from 'vitest';
import { applyGuard } from '../../src/cache/guard-rule.js';
import { decodeStoredValue, encodeStoredValue, formatVersion } from '../../src/cache/stored-value.js';
import { GUARD_CASES, GUARD_INTERLEAVINGS } from './guard-cases.js';

const NOW = 1_764_590_000_123;
const decode = (raw: string | null) => decodeStoredValue(raw === null ? null : Buffer.from(raw, 'latin1'));

describe('guard rule (TypeScript) against the case table', () => {
  it.each(GUARD_CASES)('$name', ({ before, op, outcome, after }) => {
    const stored = decode(before);
    const result = applyGuard(stored, op, NOW);
    expect(result.outcome).toBe(outcome);
    // An op that left the state alone leaves foreign data as it was; otherwise compare in the stored layout.
    const next = result.next === stored ? before : result.next ? encodeStoredValue(result.next).toString('latin1') : null;
    expect(next).toBe(after?.replace('{now}', String(NOW)) ?? null);
  });
});


describe('guard rule (TypeScript): every reader/sink/eviction interleaving is safe', () => {
  it('covers hundreds of interleavings', () => expect(GUARD_INTERLEAVINGS.length).toBeGreaterThan(300));

  it.each(GUARD_INTERLEAVINGS)('$name', ({ before, steps }) => {
    let state = decode(before);
    let maxApplied = -1n;
    for (const step of steps) {
      if (step.kind === 'evict') {
        state = undefined;
        continue;
      }
      const result = applyGuard(state, step, NOW);
      if (result.outcome === 'applied' && 'version' in step && step.kind !== 'fill' && step.version > maxApplied) maxApplied = step.version;
      // A fill never stores a version below one the sink applied.
      if (result.outcome === 'applied' && step.kind === 'fill') expect(step.version).toBeGreaterThanOrEqual(maxApplied);
      state = result.next;
    }
    if (state?.state === 'entry' || state?.state === 'absent') expect(state.version).toBeGreaterThanOrEqual(maxApplied);
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
      { state: 'lease', version: 9n, data: Buffer.from('0123456789abcdef0123456789abcdef') },
      { state: 'tombstone', version: 6n, data: Buffer.alloc(0), stale: { invalidatedAtMs: 1_764_590_000_123, version: 5n, data: Buffer.from('a:b') } },
      { state: 'lease', version: 6n, data: Buffer.from('tok'), stale: { invalidatedAtMs: 1, version: max, data: Buffer.alloc(0) } },
    ] as const) {
      expect(decodeStoredValue(encodeStoredValue(value))).toEqual(value);
    }
    expect(encodeStoredValue({ state: 'entry', version: 42n, data: Buffer.from('x') }).toString()).toBe('E42:x');
  });

  it('reads every state written by the v1 scripts (an upgrade keeps them valid)', () => {
    expect(decode('E42:{"name":"Ada"}')).toEqual({ state: 'entry', version: 42n, data: Buffer.from('{"name":"Ada"}') });
    expect(decode('A44:')).toEqual({ state: 'absent', version: 44n, data: Buffer.alloc(0) });
    expect(decode('T43:')).toEqual({ state: 'tombstone', version: 43n, data: Buffer.alloc(0) });
    expect(decode('L0:9f2c0e')).toEqual({ state: 'lease', version: 0n, data: Buffer.from('9f2c0e') });
    expect(decode('E0:"derived"')).toEqual({ state: 'entry', version: 0n, data: Buffer.from('"derived"') });
  });

  it('keeps the state and version of a tombstone or lease whose kept bytes are malformed', () => {
    expect(decode('T6:x:5:a')).toEqual({ state: 'tombstone', version: 6n, data: Buffer.alloc(0) });
    expect(decode('T6:100:05:a')).toEqual({ state: 'tombstone', version: 6n, data: Buffer.alloc(0) });
    expect(decode('L6:tok:100')).toEqual({ state: 'lease', version: 6n, data: Buffer.from('tok') });
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
