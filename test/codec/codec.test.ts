import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AvroSchema } from '../../src/codec/avro-types.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { CACHE_CHANGE_SCHEMA_NAME, CACHE_CHANGE_SCHEMA_V1, isCacheChange } from '../../src/codec/cache-change.js';
import { InvalidValueError } from '../../src/codec/errors.js';
import { encodeFrame } from '../../src/codec/framing.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { DecodeError, OutboxCacheError, SchemaError } from '../../src/errors.js';
import { fixtureSchemas, startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { loadDebeziumFixture } from './fixture.js';

const USER = 'outbox.event.user-value';
const PRODUCT = 'outbox.event.product-value';
const fixture = loadDebeziumFixture();
const schemaFile = (name: string): string => readFileSync(new URL(`../../schemas/avro/${name}`, import.meta.url), 'utf8');
const USER_V1 = schemaFile('com.example.users.UserChanged.v1.avsc');
const USER_V2 = schemaFile('com.example.users.UserChanged.v2.avsc');

async function rejection(promise: Promise<unknown>): Promise<OutboxCacheError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(OutboxCacheError);
    return err as OutboxCacheError;
  }
  throw new Error('expected a rejection');
}

let registry: SchemaRegistryDouble;
let user2Id: number;
beforeAll(async () => {
  registry = await startSchemaRegistryDouble({ preload: fixtureSchemas(fixture) });
  user2Id = registry.store.register(USER, USER_V2);
  registry.store.register(PRODUCT, JSON.stringify(CACHE_CHANGE_SCHEMA_V1));
});
afterAll(() => registry.close());

const newCodec = (): AvroCodec => new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url }) });

describe('decoding captured Debezium records', () => {
  it('decodes every captured outbox value to the recorded object (schema id 6)', async () => {
    const codec = newCodec();
    const outbox = fixture.records.filter((r) => r.decoded_schema_id !== null);
    expect(outbox.length).toBe(4);
    for (const record of outbox) {
      const decoded = await codec.decode(Buffer.from(record.value_hex, 'hex'), { subject: USER });
      expect(decoded.schemaId).toBe(6);
      expect(decoded.writerSchemaName).toBe('com.example.users.UserChanged');
      expect(decoded.value).toEqual(record.decoded);
      expect(typeof (decoded.value as { version: unknown }).version).toBe('number');
    }
  });

  it('rejects the heartbeat values (JSON, not framed) with DECODE_BAD_MAGIC', async () => {
    const codec = newCodec();
    for (const record of fixture.records.filter((r) => r.decoded_schema_id === null)) {
      const err = await rejection(codec.decode(Buffer.from(record.value_hex, 'hex'), { subject: USER }));
      expect(err).toBeInstanceOf(DecodeError);
      expect([err.code, err.retriable]).toEqual(['DECODE_BAD_MAGIC', false]);
    }
  });
});

describe('encode and decode', () => {
  it('round-trips through the writer schema looked up by content', async () => {
    const codec = newCodec();
    const writer = await codec.writerSchema(USER, USER_V1);
    expect(writer).toMatchObject({ subject: USER, id: 6, name: 'com.example.users.UserChanged' });
    const value = { id: 7, name: 'Zoë', email: null, version: 2n ** 60n };
    const framed = codec.encode(writer, value);
    expect(framed.subarray(0, 5).toString('hex')).toBe('0000000006');
    const decoded = await codec.decode(framed, { subject: USER });
    expect(decoded.value).toEqual(value);
    expect((decoded.value as { version: unknown }).version).toBe(2n ** 60n);
  });

  it('encodes the captured bytes byte for byte', async () => {
    const codec = newCodec();
    const writer = await codec.writerSchema(USER, JSON.parse(USER_V1) as AvroSchema);
    const first = fixture.records[0];
    expect(codec.encode(writer, first?.decoded).toString('hex')).toBe(first?.value_hex);
  });

  it('uses the latest version when no schema is given', async () => {
    const writer = await newCodec().writerSchema(USER);
    expect(writer.id).toBe(user2Id);
    expect(writer.type.schema()).toMatchObject({ fields: expect.arrayContaining([expect.objectContaining({ name: 'locale' })]) });
  });

  it('round-trips the standard cache-change event', async () => {
    const codec = newCodec();
    const writer = await codec.writerSchema(PRODUCT, CACHE_CHANGE_SCHEMA_V1);
    expect(writer.name).toBe(CACHE_CHANGE_SCHEMA_NAME);
    const change = { entity: 'product', id: 'p-1', version: 3, operation: 'UPSERT', value: Buffer.from('{"price":10}'), extraKeys: ['products:list'], occurredAt: 1795354211739 };
    const decoded = await codec.decode(codec.encode(writer, change), { subject: PRODUCT });
    expect(isCacheChange(decoded)).toBe(true);
    expect(decoded.value).toEqual(change);
    const defaults = await codec.decode(codec.encode(writer, { ...change, operation: 'INVALIDATE', value: null, extraKeys: [] }), { subject: PRODUCT });
    expect(defaults.value).toMatchObject({ operation: 'INVALIDATE', value: null, extraKeys: [] });
  });

  it('refuses a value that does not fit, naming the field paths', async () => {
    const codec = newCodec();
    const writer = await codec.writerSchema(PRODUCT, CACHE_CHANGE_SCHEMA_V1);
    let caught: unknown;
    try {
      codec.encode(writer, { entity: 'product', id: 5, version: 1.5, operation: 'MERGE', value: 'text', extraKeys: [], occurredAt: 0 });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidValueError);
    const err = caught as InvalidValueError;
    expect([err.code, err.retriable]).toEqual(['ENCODE_INVALID_VALUE', false]);
    expect(err.fields.map((f) => f.path)).toEqual(['id', 'version', 'operation', 'value']);
    expect(err.message).toContain("field 'operation' must be io.outboxcache.CacheOperation");
    expect(err.message).not.toContain('MERGE');
  });

  it('refuses a schema that is not registered under the subject, without registering it', async () => {
    const before = registry.store.versions(USER).length;
    const err = await rejection(newCodec().writerSchema(USER, { type: 'record', name: 'Other', fields: [] }));
    expect([err.code, err.retriable]).toEqual(['SCHEMA_NOT_REGISTERED', false]);
    expect(registry.store.versions(USER).length).toBe(before);
  });
});

describe('schema resolution', () => {
  it('reads v1-written values with the v2 reader (default filled) and v2-written with v1 (field dropped)', async () => {
    const codec = newCodec();
    const v1 = await codec.writerSchema(USER, USER_V1);
    const v2 = await codec.writerSchema(USER, USER_V2);
    const old = codec.encode(v1, { id: 1, name: 'Alice', email: 'a@example.com', version: 1 });
    const neu = codec.encode(v2, { id: 1, name: 'Alice', email: null, version: 2, locale: 'fr' });
    expect((await codec.decode(old, { subject: USER, reader: JSON.parse(USER_V2) as AvroSchema })).value).toEqual({ id: 1, name: 'Alice', email: 'a@example.com', version: 1, locale: 'en' });
    expect((await codec.decode(neu, { subject: USER, reader: USER_V1 })).value).toEqual({ id: 1, name: 'Alice', email: null, version: 2 });
    const asWritten = await codec.decode(neu, { subject: USER });
    expect(asWritten).toMatchObject({ schemaId: user2Id, value: { locale: 'fr' } });
  });

  it('reports a reader that cannot read the writer as SCHEMA_UNRESOLVABLE', async () => {
    const codec = newCodec();
    const reader = { type: 'record', name: 'UserChanged', namespace: 'com.example.users', fields: [{ name: 'tier', type: 'int' }] };
    const framed = Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex');
    const err = await rejection(codec.decode(framed, { subject: USER, reader: reader as AvroSchema }));
    expect(err).toBeInstanceOf(SchemaError);
    expect([err.code, err.retriable]).toEqual(['SCHEMA_UNRESOLVABLE', false]);
    expect(err.message).toContain('tier');
  });
});

describe('decode errors', () => {
  it('reports each kind of bad input with its code, never retriable', async () => {
    const codec = newCodec();
    const valid = Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex');
    const cases: [Buffer, string, string][] = [
      [Buffer.from([1, 0, 0, 0, 6, 2]), 'DECODE_BAD_MAGIC', 'DecodeError'],
      [Buffer.from([0, 0, 0]), 'DECODE_TRUNCATED', 'DecodeError'],
      [encodeFrame(999, Buffer.from([2])), 'SCHEMA_UNKNOWN_ID', 'RegistryError'],
      [valid.subarray(0, valid.length - 3), 'DECODE_INVALID_AVRO', 'DecodeError'],
      [Buffer.concat([valid, Buffer.from([0])]), 'DECODE_INVALID_AVRO', 'DecodeError'],
    ];
    for (const [bytes, code, name] of cases) {
      const err = await rejection(codec.decode(bytes, { subject: USER }));
      expect([err.code, err.retriable, err.name]).toEqual([code, false, name]);
    }
  });

  it('reports an id registered under another subject as SCHEMA_SUBJECT_MISMATCH', async () => {
    const codec = newCodec();
    const framed = Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex');
    const err = await rejection(codec.decode(framed, { subject: PRODUCT }));
    expect(err).toBeInstanceOf(SchemaError);
    expect([err.code, err.retriable]).toEqual(['SCHEMA_SUBJECT_MISMATCH', false]);
    expect(err.message).toContain(USER);
  });

  it('accepts an id once it has been registered under the subject too (stale lists are re-fetched)', async () => {
    let now = 0;
    const codec = new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url }), now: () => now, subjectRecheckMs: 1000 });
    const subject = 'outbox.event.member-value';
    const framed = Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex');
    expect((await rejection(codec.decode(framed, { subject }))).code).toBe('SCHEMA_SUBJECT_MISMATCH');
    expect(registry.store.register(subject, USER_V1)).toBe(6);
    // Within the recheck interval the cached answer stands; after it, the list is fetched again.
    expect((await rejection(codec.decode(framed, { subject }))).code).toBe('SCHEMA_SUBJECT_MISMATCH');
    now = 1000;
    expect((await codec.decode(framed, { subject })).schemaId).toBe(6);
  });
});

describe('registry outages', () => {
  it('reports an unreachable registry as retriable SCHEMA_REGISTRY_UNREACHABLE', async () => {
    const down = await startSchemaRegistryDouble({ preload: fixtureSchemas(fixture) });
    const url = down.url;
    const codec = new AvroCodec({ registry: new SchemaRegistryClient({ url, timeoutMs: 2000 }) });
    await down.close();
    const framed = Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex');
    const err = await rejection(codec.decode(framed, { subject: USER }));
    expect(err).toBeInstanceOf(SchemaError);
    expect([err.code, err.retriable]).toEqual(['SCHEMA_REGISTRY_UNREACHABLE', true]);
  });

  it('reports a registry that does not answer in time as retriable SCHEMA_REGISTRY_TIMEOUT', async () => {
    const codec = new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url, timeoutMs: 150 }) });
    registry.stallNext(2);
    const err = await rejection(codec.decode(Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex'), { subject: USER }));
    expect([err.code, err.retriable]).toEqual(['SCHEMA_REGISTRY_TIMEOUT', true]);
  });
});

describe('registry caching', () => {
  it('asks the registry once per id, even for concurrent decodes', async () => {
    const codec = newCodec();
    const framed = fixture.records.filter((r) => r.decoded_schema_id === 6).map((r) => Buffer.from(r.value_hex, 'hex'));
    const start = registry.requests.length;
    await Promise.all(Array.from({ length: 50 }, (_, i) => codec.decode(framed[i % framed.length] as Buffer, { subject: USER })));
    await codec.decode(framed[0] as Buffer, { subject: USER });
    expect(registry.requests.slice(start).sort()).toEqual(['GET /schemas/ids/6', 'GET /schemas/ids/6/versions']);
  });

  it('decodes without waiting only once the id is known and confirmed for the subject', async () => {
    const codec = newCodec();
    const framed = Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex');
    expect(codec.decodeKnown(framed, { subject: USER })).toBeUndefined();
    const decoded = await codec.decode(framed, { subject: USER });
    expect(codec.decodeKnown(framed, { subject: USER })).toEqual(decoded);
    // Known id, but not confirmed under this subject: only decode, which asks the registry, can tell.
    expect(codec.decodeKnown(framed, { subject: PRODUCT })).toBeUndefined();
    const errorOf = (bytes: Buffer): unknown => {
      try {
        return codec.decodeKnown(bytes, { subject: USER });
      } catch (err) {
        return [(err as OutboxCacheError).code, (err as OutboxCacheError).retriable];
      }
    };
    expect(errorOf(Buffer.from([1, 0, 0, 0, 6, 2]))).toEqual(['DECODE_BAD_MAGIC', false]);
    expect(errorOf(Buffer.concat([framed, Buffer.from([0])]))).toEqual(['DECODE_INVALID_AVRO', false]);
    expect(errorOf(framed.subarray(0, framed.length - 3))).toEqual(['DECODE_INVALID_AVRO', false]);
  });

  it('does not cache failures: a retriable outage is retried by the next call', async () => {
    const codec = newCodec();
    const framed = Buffer.from(fixture.records[0]?.value_hex ?? '', 'hex');
    registry.failNext(1, 503);
    const err = await rejection(codec.decode(framed, { subject: USER }));
    expect([err.code, err.retriable]).toEqual(['SCHEMA_REGISTRY_UNAVAILABLE', true]);
    expect((await codec.decode(framed, { subject: USER })).value).toEqual(fixture.records[0]?.decoded);
  });
});
