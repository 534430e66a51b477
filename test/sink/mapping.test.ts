import { describe, expect, it } from 'vitest';
import type { DecodedValue } from '../../src/codec/types.js';
import { MappingError } from '../../src/errors.js';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { coalesceActions } from '../../src/sink/coalesce.js';
import { CACHE_CHANGE_SCHEMA_NAME } from '../../src/codec/cache-change.js';
import { defineMappings, inNamespaces, mapEvent } from '../../src/sink/mapping.js';

const event: OutboxEvent = {
  id: 'e1', aggregateType: 'user', aggregateId: '42', type: 'UserChanged', version: 5n, occurredAtMs: 0, payload: Buffer.alloc(0),
};
const domain: DecodedValue = { schemaId: 1, writerSchemaName: 'com.example.users.UserChanged', value: { id: 42 } };
function change(fields: Record<string, unknown>): DecodedValue {
  return {
    schemaId: 2, writerSchemaName: CACHE_CHANGE_SCHEMA_NAME,
    value: { entity: 'user', id: '42', version: 5, operation: 'UPSERT', value: null, extraKeys: [], occurredAt: 0, ...fields },
  };
}
function mappingCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MappingError);
    return (err as MappingError).code;
  }
  return undefined;
}

describe('default mapping', () => {
  it('invalidates <prefix><aggregatetype>:<aggregateid> at the record version for domain events', () => {
    expect(mapEvent(event, domain, { keyPrefix: 'app:' })).toEqual([{ kind: 'invalidate', key: 'app:user:42', version: 5n }]);
  });

  it('writes through, deletes and revokes extra keys for the standard cache-change event', () => {
    const value = Buffer.from('{"name":"Ann"}');
    expect(mapEvent(event, change({ value, extraKeys: ['user:by-email:a@x'] }))).toEqual([
      { kind: 'upsert', key: 'user:42', version: 5n, value },
      { kind: 'revoke-leases', key: 'user:by-email:a@x' },
    ]);
    expect(mapEvent(event, change({ operation: 'DELETE' }))).toEqual([{ kind: 'delete', key: 'user:42', version: 5n }]);
    expect(mapEvent(event, change({ operation: 'INVALIDATE' }))).toEqual([{ kind: 'invalidate', key: 'user:42', version: 5n }]);
    expect(mapEvent(event, change({}))).toEqual([{ kind: 'invalidate', key: 'user:42', version: 5n }]);
  });

  it('refuses a cache-change payload naming another aggregate than the record, unless a mapping accepts it', () => {
    expect(mappingCode(() => mapEvent(event, change({ entity: 'order' })))).toBe('MAPPING_AGGREGATE_MISMATCH');
    expect(mappingCode(() => mapEvent(event, change({ id: '43' })))).toBe('MAPPING_AGGREGATE_MISMATCH');
    expect(mappingCode(() => mapEvent(event, change({ entity: 'order' }), { namespaces: ['order', 'user'] }))).toBe('MAPPING_AGGREGATE_MISMATCH');
    const accept = defineMappings({ user: (_e, _d, ctx) => ctx.defaultActions({ acceptOtherAggregate: true }) });
    expect(mapEvent(event, change({ id: '43' }), { mappings: accept })[0]?.key).toBe('user:43');
  });

  it('refuses a cache-change event whose version contradicts the header', () => {
    expect(mappingCode(() => mapEvent(event, change({ version: 4 })))).toBe('MAPPING_VERSION_MISMATCH');
  });
});

describe('namespaces and user mappings', () => {
  it('refuses keys outside the allowed namespaces', () => {
    const other = defineMappings({ user: (_e, _d, ctx) => ctx.defaultActions({ acceptOtherAggregate: true }) });
    expect(mappingCode(() => mapEvent(event, change({ entity: 'order' }), { mappings: other }))).toBe('MAPPING_KEY_OUTSIDE_NAMESPACE');
    expect(mapEvent(event, change({ entity: 'order' }), { namespaces: ['order'], mappings: other })[0]?.key).toBe('order:42');
    expect(mappingCode(() => mapEvent(event, domain, { namespaces: ['order'] }))).toBe('MAPPING_KEY_OUTSIDE_NAMESPACE');
    expect(inNamespaces('p:user:1', 'p:', ['user'])).toBe(true);
    expect(inNamespaces('p:user:', 'p:', ['user'])).toBe(false);
    expect(inNamespaces('p:users:1', 'p:', ['user'])).toBe(false);
    expect(inNamespaces('user:1', 'p:', ['user'])).toBe(false);
  });

  it('uses the user mapping of the aggregate type, wraps what it throws, and checks what it returns', () => {
    const mappings = defineMappings({
      user: (e, _d, ctx) => [...ctx.defaultActions(), { kind: 'invalidate', key: ctx.key('user', `${e.aggregateId}:profile`), version: e.version }],
      order: () => {
        throw new Error('boom');
      },
    });
    expect(mapEvent(event, domain, { mappings, keyPrefix: 'k:' }).map((a) => a.key)).toEqual(['k:user:42', 'k:user:42:profile']);
    expect(mappingCode(() => mapEvent({ ...event, aggregateType: 'order' }, domain, { mappings }))).toBe('MAPPING_FAILED');
    const bad = defineMappings({ user: () => [{ kind: 'upsert', key: 'user:1', version: 1n }] as never });
    expect(mappingCode(() => mapEvent(event, domain, { mappings: bad }))).toBe('MAPPING_BAD_RESULT');
    const badVersion = defineMappings({ user: () => [{ kind: 'invalidate', key: 'user:1', version: 0n }] });
    expect(mappingCode(() => mapEvent(event, domain, { mappings: badVersion }))).toBe('MAPPING_BAD_RESULT');
  });
});

describe('coalesceActions', () => {
  it('keeps the highest version per key, the first at equal versions, and one revoke per key', () => {
    const v = (key: string, version: bigint, kind: 'invalidate' | 'delete' = 'invalidate') => ({ kind, key, version });
    const out = coalesceActions([v('a', 1n), v('b', 3n), v('a', 4n), v('a', 2n), v('b', 3n, 'delete'),
      { kind: 'revoke-leases', key: 'c' }, { kind: 'revoke-leases', key: 'c' }]);
    expect(out.actions).toEqual([v('a', 4n), v('b', 3n), { kind: 'revoke-leases', key: 'c' }]);
    expect([...out.survivorOf]).toEqual([0, 1, 0, 0, 1, 2, 2]);
  });

  it('puts a key\'s revoke before its versioned action', () => {
    const out = coalesceActions([{ kind: 'invalidate', key: 'k', version: 2n }, { kind: 'revoke-leases', key: 'k' }, { kind: 'invalidate', key: 'j', version: 1n }]);
    expect(out.actions.map((a) => a.kind)).toEqual(['revoke-leases', 'invalidate', 'invalidate']);
    expect([...out.survivorOf]).toEqual([1, 0, 2]);
  });
});

describe('payload version check', () => {
  it('accepts the header version as number, bigint or text and refuses any other', () => {
    for (const version of [5, 5n, '5']) expect(mapEvent(event, change({ version }))[0]?.kind).toBe('invalidate');
    for (const version of [6, 4n, '05', 5.5]) expect(mappingCode(() => mapEvent(event, change({ version })))).toBe('MAPPING_VERSION_MISMATCH');
    const big = { ...event, version: 2n ** 60n };
    expect(mapEvent(big, change({ version: 2n ** 60n }))[0]?.kind).toBe('invalidate');
  });
});
