import { describe, expect, it } from 'vitest';
import { invalidFields, MAX_ZERO_BYTE_ITEMS, parseAvroSchema, schemaKey } from '../../src/codec/avro-types.js';
import { SchemaError } from '../../src/errors.js';

describe('longs', () => {
  const type = parseAvroSchema({ type: 'record', name: 'L', fields: [{ name: 'v', type: 'long' }] });

  it('decode to numbers when safe and to bigints beyond 2^53, exactly', () => {
    // Hand-computed zigzag varints: 1 -> 02; -1 -> 01; 2^53 - 1 -> fe ff ff ff ff ff ff 1f.
    expect(type.fromBuffer(Buffer.from('02', 'hex'))).toEqual({ v: 1 });
    expect(type.fromBuffer(Buffer.from('01', 'hex'))).toEqual({ v: -1 });
    expect(type.fromBuffer(Buffer.from('feffffffffffff1f', 'hex'))).toEqual({ v: Number.MAX_SAFE_INTEGER });
    for (const big of [2n ** 53n, 2n ** 63n - 1n, -(2n ** 63n), 9_007_199_254_740_993n]) {
      const decoded = type.fromBuffer(type.toBuffer({ v: big })) as { v: unknown };
      expect(decoded.v).toBe(big);
    }
  });

  it('encode safe numbers and int64 bigints, refuse the rest', () => {
    expect(type.toBuffer({ v: 1 }).toString('hex')).toBe('02');
    expect(type.toBuffer({ v: 1n }).toString('hex')).toBe('02');
    expect(type.isValid({ v: 2 ** 53 })).toBe(false);
    expect(type.isValid({ v: 1.5 })).toBe(false);
    expect(type.isValid({ v: 2n ** 63n })).toBe(false);
    expect(() => type.toBuffer({ v: 2n ** 64n })).toThrow();
  });
});

describe('hardened arrays and maps', () => {
  it('refuse a huge claimed item count over a short buffer, fast', () => {
    const strings = parseAvroSchema({ type: 'array', items: 'string' });
    // Count 2^40 (zigzag varint 80 80 80 80 80 40) followed by one short string.
    const hostile = Buffer.from('8080808080400261', 'hex');
    const started = Date.now();
    expect(() => strings.fromBuffer(hostile)).toThrow(/truncated/);
    expect(Date.now() - started).toBeLessThan(1000);
    const maps = parseAvroSchema({ type: 'map', values: 'long' });
    expect(() => maps.fromBuffer(hostile)).toThrow(/truncated/);
  });

  it('harden resolved reads and skipped fields too', () => {
    const writer = parseAvroSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'dropped', type: { type: 'array', items: 'string' } },
        { name: 'kept', type: { type: 'map', values: 'string' } },
      ],
    });
    const reader = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'kept', type: { type: 'map', values: 'string' } }] });
    const resolver = reader.createResolver(writer);
    // Skipped field claims 2^40 items.
    expect(() => reader.fromBuffer(Buffer.from('8080808080400261', 'hex'), resolver)).toThrow(/truncated/);
    // Empty skipped array, then the kept map claims 2^40 entries.
    expect(() => reader.fromBuffer(Buffer.from('00808080808040026102', 'hex'), resolver)).toThrow(/truncated/);
    expect(reader.fromBuffer(writer.toBuffer({ dropped: ['a'], kept: { k: 'v' } }), resolver)).toEqual({ kept: { k: 'v' } });
  });

  it('keep a __proto__ map key as a plain key', () => {
    const map = parseAvroSchema({ type: 'map', values: 'string' });
    const decoded = map.fromBuffer(Buffer.from('02125f5f70726f746f5f5f027800', 'hex')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['__proto__']);
    expect(decoded['__proto__']).toBe('x');
  });

  it('bound arrays of zero-byte items', () => {
    const nulls = parseAvroSchema({ type: 'array', items: 'null' });
    expect(nulls.fromBuffer(Buffer.from('0600', 'hex'))).toEqual([null, null, null]);
    const claim = nulls.toBuffer(new Array(MAX_ZERO_BYTE_ITEMS + 1).fill(null));
    expect(() => nulls.fromBuffer(claim)).toThrow(/zero-byte items/);
  });

  it('still decode valid nested values, also through a resolver', () => {
    const v1 = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'm', type: { type: 'map', values: { type: 'array', items: 'int' } } }] });
    const v2 = parseAvroSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'm', type: { type: 'map', values: { type: 'array', items: 'long' } } },
        { name: 'tags', type: { type: 'array', items: 'string' }, default: [] },
      ],
    });
    const bytes = v1.toBuffer({ m: { a: [1, 2], b: [] } });
    expect(v1.fromBuffer(bytes)).toEqual({ m: { a: [1, 2], b: [] } });
    expect(v2.fromBuffer(bytes, v2.createResolver(v1))).toEqual({ m: { a: [1, 2], b: [] }, tags: [] });
    const truncated = bytes.subarray(0, bytes.length - 2);
    expect(() => v2.fromBuffer(truncated, v2.createResolver(v1))).toThrow();
  });
});

describe('parseAvroSchema', () => {
  it('accepts JSON text, JSON values and primitive names', () => {
    expect(parseAvroSchema('"string"').typeName).toBe('string');
    expect(parseAvroSchema('string').typeName).toBe('string');
    expect(parseAvroSchema({ type: 'enum', name: 'E', symbols: ['A'] }).name).toBe('E');
  });

  it('reports invalid schemas as non-retriable SCHEMA_INVALID', () => {
    for (const bad of ['{not json', { type: 'record', name: 'bad-name', fields: [] }, { type: 'nope' }]) {
      try {
        parseAvroSchema(bad as never);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(SchemaError);
        expect((err as SchemaError).code).toBe('SCHEMA_INVALID');
        expect((err as SchemaError).retriable).toBe(false);
      }
    }
  });

  it('gives equal keys to the same schema written differently, and different keys otherwise', () => {
    const a = parseAvroSchema('{"type":"record","name":"R","namespace":"n","fields":[{"name":"x","type":"int","default":0}]}');
    const b = parseAvroSchema({ namespace: 'n', fields: [{ default: 0, type: 'int', name: 'x' }], name: 'R', type: 'record' });
    const c = parseAvroSchema({ type: 'record', name: 'R', namespace: 'n', fields: [{ name: 'x', type: 'int', default: 1 }] });
    expect(schemaKey(a)).toBe(schemaKey(b));
    expect(schemaKey(a)).not.toBe(schemaKey(c));
  });
});

describe('invalidFields', () => {
  const type = parseAvroSchema({
    type: 'record',
    name: 'U',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'email', type: ['null', 'string'], default: null },
      { name: 'address', type: { type: 'record', name: 'A', fields: [{ name: 'city', type: 'string' }] } },
      { name: 'tags', type: { type: 'array', items: 'string' } },
    ],
  });

  it('names each offending path and the expected type, never the value', () => {
    const found = invalidFields(type, { id: 1.5, email: 42, address: { city: null }, tags: ['ok', 7] });
    expect(found).toEqual([
      { path: 'id', expected: 'long', got: 'non-integer number' },
      { path: 'email', expected: 'null | string', got: 'number' },
      { path: 'address.city', expected: 'string', got: 'null' },
      { path: 'tags.1', expected: 'string', got: 'number' },
    ]);
    expect(invalidFields(type, { id: 1, email: null, address: { city: 'x' }, tags: [] })).toEqual([]);
  });
});
