/**
 * The demo's pure parts: stale-read bookkeeping, the summary text, option parsing, and the local
 * schema registry the demo uses instead of a Schema Registry. No servers.
 */
import { describe, expect, it } from 'vitest';
import { AvroCodec } from '../../src/codec/codec.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { parseDemoDuration, parseDemoWriterConfig } from '../../src/demo/demo-config.js';
import { LocalSchemaRegistry } from '../../src/demo/local-registry.js';
import { SHIPPED_AVRO_DIR } from '../../src/demo/package-root.js';

describe('options', () => {
  it('parses durations with units, seconds by default', () => {
    expect(parseDemoDuration('20s')).toBe(20_000);
    expect(parseDemoDuration('1.5m')).toBe(90_000);
    expect(parseDemoDuration('500ms')).toBe(500);
    expect(parseDemoDuration('7')).toBe(7000);
    expect(parseDemoDuration('soon')).toBeUndefined();
  });

  it('requires the demo writer\'s database and registry, and hides the database URL in errors', () => {
    expect(() => parseDemoWriterConfig({}, [])).toThrow(/MYSQL_URL[\s\S]*SCHEMA_REGISTRY_URL/);
    expect(() => parseDemoWriterConfig({ MYSQL_URL: 'http://u:secret@h/db', SCHEMA_REGISTRY_URL: 'http://r' }, [])).toThrow(/value hidden/);
    const config = parseDemoWriterConfig({ MYSQL_URL: 'mysql://app:pw@mysql:3306/app', SCHEMA_REGISTRY_URL: 'http://schema-registry:8081' }, []);
    expect(config).toMatchObject({ rate: 5, keys: 20, duration: undefined });
  });
});

describe('local schema registry (no Schema Registry in the demo)', () => {
  it('serves the shipped schemas under the documented ids, to a codec that round-trips through it', async () => {
    const registry = await LocalSchemaRegistry.fromDirectory(SHIPPED_AVRO_DIR);
    expect(registry.latestId('outbox.event.user-value')).toBe(2);
    expect(registry.latestId('outbox.event.product-value')).toBe(3);
    expect(await registry.getSubjectVersionsById(1)).toEqual([{ subject: 'outbox.event.user-value', version: 1 }]);
    const codec = new AvroCodec({ registry });
    const writer = await codec.writerSchema('outbox.event.product-value');
    expect(writer).toMatchObject({ id: 3, name: 'io.outboxcache.CacheChange' });
    const value = { entity: 'product', id: '1', version: 2, operation: 'INVALIDATE', value: null, extraKeys: [], occurredAt: 1 };
    const framed = codec.encode(writer, value);
    expect(await codec.decode(framed, { subject: 'outbox.event.product-value' })).toMatchObject({ schemaId: 3, value });
    await expect(codec.decode(framed, { subject: 'outbox.event.user-value' })).rejects.toMatchObject({ code: 'SCHEMA_SUBJECT_MISMATCH' });
    expect((await codec.writerSchema('outbox.event.product-value', CACHE_CHANGE_SCHEMA_V1)).id).toBe(3);
    await expect(registry.getSchemaById(99)).rejects.toMatchObject({ code: 'SCHEMA_UNKNOWN_ID', retriable: false });
    await expect(registry.getLatestSchema('outbox.event.nope-value')).rejects.toMatchObject({ code: 'SCHEMA_SUBJECT_NOT_FOUND' });
  });
});
