import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryError, SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { ConfigError, SchemaError } from '../../src/errors.js';
import { startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';

const SUBJECT = 'outbox.event.thing-value';
const V1 = JSON.stringify({ type: 'record', name: 'Thing', namespace: 't', fields: [{ name: 'a', type: 'int' }] });
const V2_OK = JSON.stringify({ type: 'record', name: 'Thing', namespace: 't', fields: [{ name: 'a', type: 'int' }, { name: 'b', type: 'string', default: '' }] });
const V2_BAD = JSON.stringify({ type: 'record', name: 'Thing', namespace: 't', fields: [{ name: 'a', type: 'int' }, { name: 'b', type: 'string' }] });

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(RegistryError);
    expect(err).toBeInstanceOf(SchemaError);
    return err as RegistryError;
  }
  throw new Error('expected a rejection');
}

/** A URL on which nothing listens: bind a port, then release it. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

let registry: SchemaRegistryDouble;
let client: SchemaRegistryClient;
beforeAll(async () => {
  registry = await startSchemaRegistryDouble();
  client = new SchemaRegistryClient({ url: registry.url });
});
afterAll(() => registry.close());

describe('definite answers (not retriable)', () => {
  it('maps unknown id, unknown subject, incompatible and invalid schemas', async () => {
    const unknownId = await failure(client.getSchemaById(4242));
    expect([unknownId.code, unknownId.retriable, unknownId.status, unknownId.errorCode]).toEqual(['SCHEMA_UNKNOWN_ID', false, 404, 40403]);
    expect((await failure(client.getSubjectVersionsById(4242))).code).toBe('SCHEMA_UNKNOWN_ID');
    const noSubject = await failure(client.getLatestSchema('outbox.event.none-value'));
    expect([noSubject.code, noSubject.retriable, noSubject.errorCode]).toEqual(['SCHEMA_SUBJECT_NOT_FOUND', false, 40401]);

    const id = await client.registerSchema(SUBJECT, V1);
    const incompatible = await failure(client.registerSchema(SUBJECT, V2_BAD));
    expect([incompatible.code, incompatible.retriable, incompatible.status]).toEqual(['SCHEMA_INCOMPATIBLE', false, 409]);
    const invalid = await failure(client.registerSchema(SUBJECT, '{"type":"record"}'));
    expect([invalid.code, invalid.retriable, invalid.errorCode]).toEqual(['SCHEMA_INVALID', false, 42201]);
    const version = await failure(client.getVersions('outbox.event.none-value'));
    expect(version.code).toBe('SCHEMA_SUBJECT_NOT_FOUND');
    expect(await client.registerSchema(SUBJECT, V1)).toBe(id);
  });

  it('looks schemas up without registering them', async () => {
    const id = await client.registerSchema(SUBJECT, V1);
    expect(await client.lookupSchema(SUBJECT, V1)).toMatchObject({ subject: SUBJECT, id, version: 1 });
    expect(await client.lookupSchema(SUBJECT, V2_OK)).toBeUndefined();
    expect(await client.lookupSchema('outbox.event.none-value', V1)).toBeUndefined();
    expect(await client.getVersions(SUBJECT)).toEqual([1]);
  });

  it('tests compatibility with the registry, a missing subject accepting anything', async () => {
    await client.registerSchema(SUBJECT, V1);
    expect(await client.testCompatibility(SUBJECT, V2_OK)).toEqual({ compatible: true, messages: [] });
    const bad = await client.testCompatibility(SUBJECT, V2_BAD);
    expect(bad.compatible).toBe(false);
    expect(bad.messages.join(' ')).toContain('b');
    expect(await client.testCompatibility('outbox.event.fresh-value', V2_BAD)).toEqual({ compatible: true, messages: [] });
    expect(await client.getCompatibilityLevel(SUBJECT)).toBe('BACKWARD');
    registry.store.setLevel(SUBJECT, 'FULL_TRANSITIVE');
    expect(await client.getCompatibilityLevel(SUBJECT)).toBe('FULL_TRANSITIVE');
  });
});

describe('the registry cannot answer (retriable)', () => {
  it('reports a refused connection as SCHEMA_REGISTRY_UNREACHABLE', async () => {
    const err = await failure(new SchemaRegistryClient({ url: await deadUrl() }).getSchemaById(1));
    expect([err.code, err.retriable]).toEqual(['SCHEMA_REGISTRY_UNREACHABLE', true]);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('reports a request without answer as SCHEMA_REGISTRY_TIMEOUT', async () => {
    registry.stallNext(1);
    const err = await failure(new SchemaRegistryClient({ url: registry.url, timeoutMs: 150 }).getSchemaById(1));
    expect([err.code, err.retriable]).toEqual(['SCHEMA_REGISTRY_TIMEOUT', true]);
  });

  it('reports 5xx, 429 and 408 as SCHEMA_REGISTRY_UNAVAILABLE', async () => {
    for (const status of [500, 503, 429, 408]) {
      registry.failNext(1, status);
      const err = await failure(client.getSchemaById(1));
      expect([err.code, err.retriable, err.status]).toEqual(['SCHEMA_REGISTRY_UNAVAILABLE', true, status]);
    }
  });

  it('reports a 404 that is not a registry answer (wrong URL path) as retriable', async () => {
    const err = await failure(new SchemaRegistryClient({ url: `${registry.url}/not-the-registry` }).getSchemaById(1));
    expect([err.code, err.retriable, err.status]).toEqual(['SCHEMA_REGISTRY_BAD_RESPONSE', true, 404]);
  });

  it('reports a non-JSON success as SCHEMA_REGISTRY_BAD_RESPONSE', async () => {
    const server = createServer((_req, res) => res.end('<html>proxy</html>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const err = await failure(new SchemaRegistryClient({ url: `http://127.0.0.1:${port}` }).getSchemaById(1));
      expect([err.code, err.retriable]).toEqual(['SCHEMA_REGISTRY_BAD_RESPONSE', true]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('basic authentication', () => {
  let secured: SchemaRegistryDouble;
  beforeAll(async () => {
    secured = await startSchemaRegistryDouble({ auth: { username: 'reader', password: 's3cr:et' } });
    secured.store.register(SUBJECT, V1);
  });
  afterAll(() => secured.close());

  it('sends credentials from options or from the URL, never showing the password', async () => {
    const viaOptions = new SchemaRegistryClient({ url: secured.url, auth: { username: 'reader', password: 's3cr:et' } });
    expect((await viaOptions.getLatestSchema(SUBJECT)).version).toBe(1);
    const withUserInfo = secured.url.replace('http://', `http://reader:${encodeURIComponent('s3cr:et')}@`);
    const viaUrl = new SchemaRegistryClient({ url: withUserInfo });
    expect(viaUrl.baseUrl).toBe(secured.url);
    expect((await viaUrl.getLatestSchema(SUBJECT)).version).toBe(1);
  });

  it('reports refused credentials as SCHEMA_REGISTRY_AUTH', async () => {
    for (const auth of [undefined, { username: 'reader', password: 'wrong' }]) {
      const err = await failure(new SchemaRegistryClient({ url: secured.url, auth }).getLatestSchema(SUBJECT));
      expect([err.code, err.status]).toEqual(['SCHEMA_REGISTRY_AUTH', 401]);
      // Retriable: the record is fine, the deployment is not; the sink pauses instead of dead-lettering.
      expect(err.retriable).toBe(true);
      expect(err.message).not.toContain('wrong');
    }
  });

  it('refuses a malformed URL as configuration', () => {
    expect(() => new SchemaRegistryClient({ url: 'not a url' })).toThrow(ConfigError);
  });
});
