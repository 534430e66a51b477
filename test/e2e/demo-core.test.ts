/**
 * The demo's pure parts: stale-read bookkeeping, the summary text, option parsing, and the local
 * schema registry the demo uses instead of a Schema Registry. No servers.
 */
import { describe, expect, it } from 'vitest';
import { AvroCodec } from '../../src/codec/codec.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { ConfigError } from '../../src/errors.js';
import { parseDemoConfig, parseDemoDuration, parseDemoWriterConfig } from '../../src/demo/demo-config.js';
import { LocalSchemaRegistry } from '../../src/demo/local-registry.js';
import { SHIPPED_AVRO_DIR } from '../../src/demo/package-root.js';
import { summaryText, type DemoSummary } from '../../src/demo/report.js';
import { CacheTally, CommitBook, isStaleRead, staleKeys } from '../../src/demo/stats.js';

describe('stale-read bookkeeping', () => {
  it('calls a read stale only below a version whose commit returned before the read started', () => {
    expect(isStaleRead({ version: 4n, committedBefore: 5n })).toBe(true);
    expect(isStaleRead({ version: 5n, committedBefore: 5n })).toBe(false);
    expect(isStaleRead({ version: 6n, committedBefore: 5n })).toBe(false);
  });

  it('counts reads, hits, refused fills and stale reads, and how late the oldest stale read was', () => {
    const book = new CommitBook();
    book.committed(1, 2n, 100);
    book.committed(1, 3n, 150);
    // An out-of-order return of an older commit does not lower the latest version.
    book.committed(1, 1n, 160);
    expect(book.latest(1)).toBe(3n);
    expect(book.latest(2)).toBe(0n);
    const tally = new CacheTally();
    tally.record({ id: 1, hit: true, version: 3n, startedAtMs: 200, committedBefore: 3n }, book);
    tally.record({ id: 1, hit: true, version: 1n, startedAtMs: 400, committedBefore: 3n }, book);
    tally.record({ id: 1, hit: false, refused: true, version: 2n, startedAtMs: 170, committedBefore: 3n }, book);
    expect(tally.counters()).toEqual({ reads: 3, hits: 2, staleReads: 2, oldestStaleMs: 300, refusedFills: 1 });
  });

  it('lists the keys whose cached version differs from the database', () => {
    const db = new Map([[1, 5n], [2, 7n], [3, 1n]]);
    expect(staleKeys(db, new Map([[1, 5n], [2, 6n], [3, 2n]]))).toEqual([2, 3]);
    expect(staleKeys(db, new Map())).toEqual([]);
  });
});

describe('summary', () => {
  const base: DemoSummary = {
    elapsedMs: 20_000, writes: 3079, keys: 100, drained: true, interrupted: false,
    relay: { events: 3079, changed: 3079, superseded: 0, skipped: 0 },
    guarded: { reads: 64_749, hits: 59_310, staleReads: 54, oldestStaleMs: 35, refusedFills: 12, staleKeys: 0 },
    plain: { reads: 64_794, hits: 59_870, staleReads: 1869, oldestStaleMs: 3300, refusedFills: 0, staleKeys: 2 },
  };

  it('prints both caches side by side', () => {
    const text = summaryText(base);
    expect(text).toContain('Summary after 20.0 s:');
    expect(text).toMatch(/hit rate\s+91\.6%\s+92\.4%/);
    expect(text).toMatch(/stale reads seen\s+54 \(up to 35 ms late\)\s+1,869 \(up to 3\.3 s late\)/);
    expect(text).toMatch(/stale keys at the end\s+0 of 100\s+2 of 100/);
    expect(text).not.toContain('WARNING');
  });

  it('says when it stopped early and when the relay had not caught up', () => {
    const text = summaryText({ ...base, interrupted: true, drained: false });
    expect(text).toContain('(stopped early)');
    expect(text).toContain('WARNING: the relay had not applied every committed write');
  });
});

describe('options', () => {
  it('parses durations with units, seconds by default', () => {
    expect(parseDemoDuration('20s')).toBe(20_000);
    expect(parseDemoDuration('1.5m')).toBe(90_000);
    expect(parseDemoDuration('500ms')).toBe(500);
    expect(parseDemoDuration('7')).toBe(7000);
    expect(parseDemoDuration('soon')).toBeUndefined();
  });

  it('has defaults that finish well under a minute, and reports every bad option at once', () => {
    expect(parseDemoConfig({}, [])).toMatchObject({ duration: 20_000, writers: 4, readers: 16, keys: 100, fillDelayMs: 50 });
    expect(parseDemoConfig({ DEMO_KEYS: '7' }, ['--duration', '3s', '--writers=2'])).toMatchObject({ duration: 3000, writers: 2, keys: 7 });
    let error: unknown;
    try {
      parseDemoConfig({}, ['--writers', '0', '--duration', 'soon', '--nope']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting).sort()).toEqual(['--duration', '--nope', '--writers']);
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
