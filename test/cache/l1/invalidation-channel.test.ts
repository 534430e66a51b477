import { describe, expect, it } from 'vitest';
import { keySlot } from '../../../src/cache/key-slot.js';
import {
  decodeInvalidations, encodeInvalidations, invalidationChannel, slotTag,
} from '../../../src/cache/l1/invalidation-channel.js';

describe('invalidation channels', () => {
  it('has a tag for every hash slot that hashes to it', () => {
    for (let slot = 0; slot < 16384; slot++) expect(keySlot(`{${slotTag(slot)}}`)).toBe(slot);
    expect(() => slotTag(16384)).toThrow(RangeError);
  });

  it('puts a cluster channel in the slot of the key it announces, and a single node on one channel', () => {
    for (const key of ['p:user:1', 'p:é:☃', 'p:{42}:x']) {
      const channel = invalidationChannel('p:', key, true);
      expect(keySlot(channel)).toBe(keySlot(key));
    }
    expect(invalidationChannel('p:', 'p:user:1', false)).toBe('p:outbox-cache:l1');
    expect(invalidationChannel('{app}:', '{app}:user:1', true)).toBe('{app}:outbox-cache:l1');
  });
});

describe('invalidation messages', () => {
  it('round-trips keys with any bytes, strips the prefix and skips other prefixes', () => {
    const message = encodeInvalidations([
      { fullKey: 'p:a;b:1', version: 7n },
      { fullKey: 'p:é☃', version: null },
      { fullKey: 'other:x', version: 2n },
      { fullKey: 'p:max', version: 2n ** 63n - 1n },
    ]);
    expect(decodeInvalidations(message, 'p:')).toEqual({
      invalidations: [
        { key: 'a;b:1', version: 7n },
        { key: 'é☃', version: null },
        { key: 'max', version: 2n ** 63n - 1n },
      ],
      malformed: false,
    });
  });

  it('reports a malformed message with what was read before the fault', () => {
    const good = encodeInvalidations([{ fullKey: 'k1', version: 1n }]);
    for (const bad of ['07;2;k2', 'x;2;k2', '3;9;k2', '3;2', '3;02;k2', '-1;2;k2']) {
      const { invalidations, malformed } = decodeInvalidations(Buffer.concat([good, Buffer.from(bad)]), '');
      expect(malformed, bad).toBe(true);
      expect(invalidations).toEqual([{ key: 'k1', version: 1n }]);
    }
  });
});
