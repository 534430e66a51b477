import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { L1Store } from '../../../src/cache/l1/l1-store.js';

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function fill<T>(store: L1Store<T>, key: string, version: bigint, value: T, bytes = 10): boolean {
  return store.completeFill(store.beginFill(key), version, value, bytes);
}

describe('L1Store', () => {
  it('serves a filled entry until its TTL, counted from the read that fetched it', () => {
    const c = clock();
    const store = new L1Store<string>({ ttlMs: 100 }, c.now);
    const ticket = store.beginFill('k');
    c.advance(30);
    expect(store.completeFill(ticket, 3n, 'v3', 2)).toBe(true);
    expect(store.get('k')).toMatchObject({ version: 3n, value: 'v3', fetchedAtMs: 1_000 });
    c.advance(69);
    expect(store.get('k')?.value).toBe('v3');
    c.advance(1);
    expect(store.get('k')).toBeUndefined();
    expect(store.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('bypasses an entry below minVersion without dropping it', () => {
    const store = new L1Store<string>();
    fill(store, 'k', 5n, 'v5');
    expect(store.get('k', 6n)).toBeUndefined();
    expect(store.get('k', 5n)?.value).toBe('v5');
  });

  it('drops an entry on an invalidation above its version, keeps it for one at or below', () => {
    const store = new L1Store<string>();
    fill(store, 'k', 5n, 'v5');
    store.invalidate('k', 5n);
    store.invalidate('k', 4n);
    expect(store.get('k')?.value).toBe('v5');
    store.invalidate('k', 6n);
    expect(store.get('k')).toBeUndefined();
    fill(store, 'k', 0n, 'derived');
    store.invalidate('k', null);
    expect(store.get('k')).toBeUndefined();
  });

  it('refuses a fill that an invalidation overtook while the read was in flight', () => {
    const store = new L1Store<string>();
    const ticket = store.beginFill('k');
    store.invalidate('k', 6n);
    expect(store.completeFill(ticket, 5n, 'v5', 2)).toBe(false);
    expect(store.get('k')).toBeUndefined();
    const again = store.beginFill('k');
    store.invalidate('k', 6n);
    expect(store.completeFill(again, 6n, 'v6', 2)).toBe(true);
    const revoked = store.beginFill('d');
    store.invalidate('d', null);
    expect(store.completeFill(revoked, 9n, 'v9', 2)).toBe(false);
    expect(store.stats().pendingReads).toBe(0);
  });

  it('voids reads in flight when cleared (the subscription was lost)', () => {
    const store = new L1Store<string>();
    fill(store, 'a', 1n, 'a1');
    const ticket = store.beginFill('b');
    store.clear();
    expect(store.get('a')).toBeUndefined();
    expect(store.completeFill(ticket, 1n, 'b1', 2)).toBe(false);
    expect(fill(store, 'b', 1n, 'b1')).toBe(true);
  });

  it('never replaces an entry by an older version', () => {
    const store = new L1Store<string>();
    fill(store, 'k', 7n, 'v7');
    expect(fill(store, 'k', 6n, 'v6')).toBe(false);
    expect(store.get('k')?.value).toBe('v7');
    expect(fill(store, 'k', 8n, 'v8')).toBe(true);
    expect(store.stats().entries).toBe(1);
  });

  it('holds at most maxEntries and maxBytes, evicting the least recently used first', () => {
    const store = new L1Store<number>({ maxEntries: 3, maxBytes: 1_000 });
    for (let i = 0; i < 3; i++) fill(store, `k${i}`, 1n, i);
    store.get('k0');
    fill(store, 'k3', 1n, 3);
    expect(store.get('k0')).toBeDefined();
    expect(store.get('k1')).toBeUndefined();
    expect(store.stats()).toMatchObject({ entries: 3, evictions: 1 });

    const bytes = new L1Store<number>({ maxEntries: 1_000, maxBytes: 100 });
    for (let i = 0; i < 50; i++) fill(bytes, `b${i}`, 1n, i, 20);
    expect(bytes.stats().bytes).toBeLessThanOrEqual(100);
    expect(bytes.stats().entries).toBe(4);
    expect(fill(bytes, 'huge', 1n, 0, 200)).toBe(false);
  });

  it('refuses invalid options, every problem at once', () => {
    expect(() => new L1Store({ maxEntries: 0, ttlMs: 1.5 })).toThrow(ConfigError);
    try {
      new L1Store({ maxEntries: 0, ttlMs: 1.5 });
    } catch (err) {
      expect((err as ConfigError).problems.map((p) => p.setting)).toEqual(['l1.maxEntries', 'l1.ttlMs']);
    }
  });
});
