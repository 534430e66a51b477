import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CACHE_CHANGE_SCHEMA_NAME, CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { checkCompatibility } from '../../src/codec/compatibility.js';
import { loadSchemaManifest } from '../../src/codec/schema-manifest.js';
import { loadDebeziumFixture } from './fixture.js';

const DIR = fileURLToPath(new URL('../../schemas/avro/', import.meta.url));
const json = async (file: string): Promise<{ fields: { name: string; default?: unknown; type: unknown }[] } & Record<string, unknown>> =>
  JSON.parse(await readFile(`${DIR}${file}`, 'utf8')) as never;

describe('the shipped Avro schemas', () => {
  it('are all listed in the manifest, valid, under outbox subjects', async () => {
    const manifest = await loadSchemaManifest(DIR);
    expect(manifest.problems).toEqual([]);
    expect(manifest.unlisted).toEqual([]);
    expect(manifest.subjects.map((s) => s.subject).sort()).toEqual(['outbox.event.product-value', 'outbox.event.user-value']);
  });

  it('evolve compatibly in both directions: every field added after v1 has a default', async () => {
    const manifest = await loadSchemaManifest(DIR);
    for (const subject of manifest.subjects) {
      const types = subject.schemas.map((s) => s.type);
      for (let i = 1; i < types.length; i++) {
        const result = checkCompatibility('FULL_TRANSITIVE', types[i] as never, types.slice(0, i));
        expect(result.messages, `${subject.subject} ${subject.schemas[i]?.file}`).toEqual([]);
      }
      const first = await json(subject.schemas[0]?.file ?? '');
      for (const later of subject.schemas.slice(1)) {
        const added = (await json(later.file)).fields.filter((f) => !first.fields.some((g) => g.name === f.name));
        expect(added.length).toBeGreaterThan(0);
        for (const field of added) expect(field, `${later.file} ${field.name}`).toHaveProperty('default');
      }
    }
  });

  it('UserChanged v1 is exactly the schema of the captured Debezium records (id 6)', async () => {
    const captured = loadDebeziumFixture().schemas['6'];
    expect(captured?.subject).toBe('outbox.event.user-value');
    expect(await json('com.example.users.UserChanged.v1.avsc')).toEqual(captured?.schema);
  });

  it('CacheChange has the agreed fields, and the exported constant equals the file', async () => {
    const file = await json('io.outboxcache.CacheChange.v1.avsc');
    expect(file).toEqual(CACHE_CHANGE_SCHEMA_V1);
    expect(`${String(file.namespace)}.${String(file.name)}`).toBe(CACHE_CHANGE_SCHEMA_NAME);
    const field = (name: string) => file.fields.find((f) => f.name === name);
    expect(field('entity')?.type).toBe('string');
    expect(field('id')?.type).toBe('string');
    expect(field('version')?.type).toBe('long');
    expect(field('operation')?.type).toMatchObject({ type: 'enum', symbols: ['UPSERT', 'DELETE', 'INVALIDATE'] });
    expect(field('value')).toMatchObject({ type: ['null', 'bytes'], default: null });
    expect(field('extraKeys')).toMatchObject({ type: { type: 'array', items: 'string' }, default: [] });
    expect(field('occurredAt')?.type).toEqual({ type: 'long', logicalType: 'timestamp-millis' });
  });
});
