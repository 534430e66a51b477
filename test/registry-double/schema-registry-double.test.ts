import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSchemas, startSchemaRegistryDouble, type SchemaRegistryDouble } from './schema-registry-double.js';
import { loadDebeziumFixture } from '../codec/fixture.js';

const V1 = { type: 'record', name: 'Thing', namespace: 't', fields: [{ name: 'a', type: 'int' }] };
const V2 = { ...V1, fields: [...V1.fields, { name: 'b', type: 'string', default: '' }] };
const V3_BREAKS_V1 = { ...V1, fields: [...V1.fields, { name: 'b', type: 'string' }] };
const DROPS_A = { ...V1, fields: [{ name: 'b', type: 'string', default: '' }] };

let registry: SchemaRegistryDouble;
beforeAll(async () => {
  registry = await startSchemaRegistryDouble({ preload: fixtureSchemas(loadDebeziumFixture()) });
});
afterAll(() => registry.close());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> & unknown[] }> {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(response.headers.get('content-type')).toBe('application/vnd.schemaregistry.v1+json');
  return { status: response.status, json: (await response.json()) as Record<string, unknown> & unknown[] };
}
const register = (subject: string, schema: unknown) => call('POST', `/subjects/${subject}/versions`, { schema: JSON.stringify(schema) });

describe('ids and versions', () => {
  it('serves preloaded schemas under their ids and numbers new ones after them', async () => {
    const six = await call('GET', '/schemas/ids/6');
    expect(six.status).toBe(200);
    expect(JSON.parse(six.json.schema as string)).toMatchObject({ name: 'UserChanged' });
    expect((await call('GET', '/schemas/ids/6/versions')).json).toEqual([{ subject: 'outbox.event.user-value', version: 1 }]);
    const created = await register('s-ids-value', V1);
    expect(created).toEqual({ status: 200, json: { id: 7 } });
  });

  it('gives an identical schema the same id in every subject, whatever its formatting', async () => {
    const first = await register('s-a-value', V2);
    const reformatted = JSON.stringify(V2, null, 2);
    const second = await call('POST', '/subjects/s-b-value/versions', { schema: reformatted });
    expect(second.json.id).toBe(first.json.id);
    // Registering again is idempotent: no new version.
    expect((await register('s-a-value', V2)).json.id).toBe(first.json.id);
    expect((await call('GET', '/subjects/s-a-value/versions')).json).toEqual([1]);
    expect((await call('GET', `/schemas/ids/${String(first.json.id)}/subjects`)).json).toEqual(['s-a-value', 's-b-value']);
  });

  it('looks schemas up and serves versions', async () => {
    await register('s-look-value', V1);
    await register('s-look-value', V2);
    expect((await call('GET', '/subjects/s-look-value/versions/latest')).json).toMatchObject({ subject: 's-look-value', version: 2 });
    expect((await call('GET', '/subjects/s-look-value/versions/1')).json).toMatchObject({ version: 1, schema: JSON.stringify(V1) });
    expect((await call('POST', '/subjects/s-look-value', { schema: JSON.stringify(V1) })).json).toMatchObject({ version: 1 });
  });
});

describe('status and error codes', () => {
  it.each([
    ['GET', '/schemas/ids/999', undefined, 404, 40403],
    ['GET', '/subjects/nope/versions', undefined, 404, 40401],
    ['GET', '/subjects/outbox.event.user-value/versions/9', undefined, 404, 40402],
    ['GET', '/subjects/outbox.event.user-value/versions/zero', undefined, 422, 42202],
    ['POST', '/subjects/outbox.event.user-value', { schema: JSON.stringify(V1) }, 404, 40403],
    ['POST', '/subjects/nope', { schema: JSON.stringify(V1) }, 404, 40401],
    ['POST', '/subjects/x/versions', { schema: '{"type":"record","name":"R"}' }, 422, 42201],
    ['POST', '/subjects/x/versions', { schema: JSON.stringify(V1), schemaType: 'PROTOBUF' }, 422, 42201],
    ['GET', '/config/outbox.event.user-value', undefined, 404, 40408],
    ['PUT', '/config/x', { compatibility: 'SIDEWAYS' }, 422, 42203],
    ['GET', '/no/such/path', undefined, 404, 404],
  ])('%s %s → %i / %i', async (method, path, body, status, errorCode) => {
    const answer = await call(method, path, body);
    expect(answer.status).toBe(status);
    expect(answer.json.error_code).toBe(errorCode);
    expect(typeof answer.json.message).toBe('string');
  });

  it('refuses an incompatible schema with 409 and keeps the subject unchanged', async () => {
    await register('s-409-value', V1);
    const refused = await register('s-409-value', V3_BREAKS_V1);
    expect(refused.status).toBe(409);
    expect(refused.json.error_code).toBe(409);
    expect(refused.json.message).toContain('incompatible');
    expect((await call('GET', '/subjects/s-409-value/versions')).json).toEqual([1]);
  });

  it('answers injected failures and requires credentials when configured', async () => {
    registry.failNext(1, 503);
    expect(await call('GET', '/schemas/ids/6')).toMatchObject({ status: 503, json: { error_code: 50001 } });
    expect((await call('GET', '/schemas/ids/6')).status).toBe(200);
    const secured = await startSchemaRegistryDouble({ auth: { username: 'u', password: 'p' } });
    try {
      const denied = await fetch(`${secured.url}/subjects`);
      expect(denied.status).toBe(401);
      const allowed = await fetch(`${secured.url}/subjects`, { headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` } });
      expect(allowed.status).toBe(200);
    } finally {
      await secured.close();
    }
  });
});

describe('compatibility levels', () => {
  it('uses BACKWARD by default and per-subject levels when set', async () => {
    expect((await call('GET', '/config')).json).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect((await call('GET', '/config/s-lvl-value?defaultToGlobal=true')).json).toEqual({ compatibilityLevel: 'BACKWARD' });
    await register('s-lvl-value', V1);
    expect((await register('s-lvl-value', DROPS_A)).status).toBe(200); // BACKWARD: reading old data without a is fine
    await register('s-fwd-value', V1);
    expect((await call('PUT', '/config/s-fwd-value', { compatibility: 'FORWARD' })).json).toEqual({ compatibility: 'FORWARD' });
    expect((await call('GET', '/config/s-fwd-value')).json).toEqual({ compatibilityLevel: 'FORWARD' });
    expect((await register('s-fwd-value', DROPS_A)).status).toBe(409); // v1 cannot read data without a
    expect((await register('s-fwd-value', V3_BREAKS_V1)).status).toBe(200); // v1 ignores the new b
  });

  it('applies FULL, NONE and the transitive variants', async () => {
    await register('s-full-value', V1);
    await call('PUT', '/config/s-full-value', { compatibility: 'full' });
    expect((await register('s-full-value', V3_BREAKS_V1)).status).toBe(409);
    expect((await register('s-full-value', V2)).status).toBe(200);

    await register('s-none-value', V1);
    await call('PUT', '/config/s-none-value', { compatibility: 'NONE' });
    expect((await register('s-none-value', { type: 'string' })).status).toBe(200);

    for (const [subject, level, expected] of [
      ['s-bt-value', 'BACKWARD', 200],
      ['s-bt2-value', 'BACKWARD_TRANSITIVE', 409],
    ] as const) {
      await register(subject, V1);
      await register(subject, V2);
      await call('PUT', `/config/${subject}`, { compatibility: level });
      expect((await register(subject, V3_BREAKS_V1)).status).toBe(expected);
    }
  });

  it('tests compatibility against one version, verbosely on request', async () => {
    await register('s-test-value', V1);
    const ok = await call('POST', '/compatibility/subjects/s-test-value/versions/latest', { schema: JSON.stringify(V2) });
    expect(ok.json).toEqual({ is_compatible: true });
    const bad = await call('POST', '/compatibility/subjects/s-test-value/versions/1?verbose=true', { schema: JSON.stringify(V3_BREAKS_V1) });
    expect(bad.json.is_compatible).toBe(false);
    expect((bad.json.messages as string[]).length).toBeGreaterThan(0);
    const fresh = await call('POST', '/compatibility/subjects/s-new-value/versions/latest', { schema: JSON.stringify(V1) });
    expect(fresh.json).toEqual({ is_compatible: true });
  });
});
