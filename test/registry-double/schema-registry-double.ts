/**
 * A Schema Registry TEST DOUBLE: a real HTTP server on 127.0.0.1 (random port) speaking the subset
 * of the Confluent Schema Registry REST API this project uses, with the real status and error codes
 * (40401, 40402, 40403, 40408, 409, 42201, 42202, 42203, 401, 50001). It exists because no Schema
 * Registry can be installed on these machines (DESIGN.md §6). Tests start it, use it, and close it:
 *
 *   const registry = await startSchemaRegistryDouble({ preload: fixtureSchemas(records) });
 *   ... new SchemaRegistryClient({ url: registry.url }) ...
 *   await registry.close();
 *
 * Faults for tests: `failNext` answers the next requests with an error status, `stallNext` never
 * answers them (to exercise client timeouts), `requests` records every request made.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryHttpError, RegistryStore, type PreloadedSchema } from './registry-store.js';

export { RegistryStore, type PreloadedSchema } from './registry-store.js';

/** Options of {@link startSchemaRegistryDouble}. */
export interface SchemaRegistryDoubleOptions {
  /** Require HTTP basic authentication with these credentials (401 otherwise). */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Schemas to install under fixed ids before the first request. */
  readonly preload?: readonly PreloadedSchema[];
}

/** A running double. */
export interface SchemaRegistryDouble {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The registry state, for direct setup and assertions. */
  readonly store: RegistryStore;
  /** Every request received, in order (`GET /schemas/ids/6`), including failed ones. */
  readonly requests: string[];
  /** Installs a schema under a fixed id (e.g. the fixture's id 6). */
  preload(entry: PreloadedSchema): void;
  /** Answers the next `count` requests with `status` (default 500, error code 50001). */
  failNext(count: number, status?: number): void;
  /** Leaves the next `count` requests unanswered until the double closes. */
  stallNext(count: number): void;
  /** Stops the server and drops every connection, stalled ones included. */
  close(): Promise<void>;
}

/** Schemas of a captured-records fixture (`records.json`'s `schemas` map: id → subject, schema). */
export function fixtureSchemas(fixture: { schemas: Record<string, { subject: string; version?: number; schema: unknown }> }): PreloadedSchema[] {
  return Object.entries(fixture.schemas).map(([id, s]) => ({ id: Number(id), subject: s.subject, schema: s.schema, version: s.version }));
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Starts the double on 127.0.0.1, port 0. */
export async function startSchemaRegistryDouble(options: SchemaRegistryDoubleOptions = {}): Promise<SchemaRegistryDouble> {
  const store = new RegistryStore();
  for (const entry of options.preload ?? []) store.preload(entry);
  const requests: string[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  let stalls = 0;
  const expected = options.auth ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}` : undefined;

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    requests.push(`${req.method ?? 'GET'} ${url.pathname}`);
    try {
      const body = await readBody(req);
      if (stalls > 0) {
        stalls -= 1;
        return; // Never answered: the client's timeout must fire.
      }
      if (failures.count > 0) {
        failures = { ...failures, count: failures.count - 1 };
        const code = failures.status >= 500 ? 50001 : failures.status;
        return send(res, failures.status, { error_code: code, message: failures.status >= 500 ? 'Error in the backend data store' : 'Injected failure' });
      }
      if (expected && req.headers.authorization !== expected) {
        res.setHeader('www-authenticate', 'Basic realm="SchemaRegistry"');
        return send(res, 401, { error_code: 401, message: 'Unauthorized' });
      }
      send(res, 200, route(store, req.method ?? 'GET', url, body));
    } catch (err) {
      if (err instanceof RegistryHttpError) return send(res, err.status, { error_code: err.errorCode, message: err.message });
      send(res, 500, { error_code: 50001, message: err instanceof Error ? err.message : String(err) });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    store,
    requests,
    preload: (entry) => store.preload(entry),
    failNext(count, status = 500) {
      failures = { count, status };
    },
    stallNext(count) {
      stalls = count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': CONTENT_TYPE });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new RegistryHttpError(400, 400, 'Unexpected character: request body is not JSON');
  }
}

function schemaText(body: unknown): string {
  const schema = (body as { schema?: unknown } | undefined)?.schema;
  const type = (body as { schemaType?: unknown } | undefined)?.schemaType;
  if (type !== undefined && type !== 'AVRO') throw new RegistryHttpError(422, 42201, `Invalid schema type ${String(type)}: this double only speaks Avro`);
  if (typeof schema !== 'string') throw new RegistryHttpError(422, 42201, 'Invalid schema: the request has no schema string');
  return schema;
}

function notFound(): never {
  throw new RegistryHttpError(404, 404, 'HTTP 404 Not Found');
}

function route(store: RegistryStore, method: string, url: URL, body: unknown): unknown {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, a, b, c, d] = parts;
  const n = parts.length;
  if (head === 'schemas' && a === 'ids' && b !== undefined && method === 'GET') {
    const id = /^[0-9]+$/.test(b) ? Number(b) : notFound();
    if (n === 3) return { schema: store.schemaById(id).text };
    if (n === 4 && c === 'versions') return store.versionsById(id);
    if (n === 4 && c === 'subjects') return store.versionsById(id).map((v) => v.subject);
  }
  if (head === 'subjects') {
    if (n === 1 && method === 'GET') return store.subjectNames();
    if (a !== undefined && n === 2 && method === 'POST') return store.lookup(a, schemaText(body));
    if (a !== undefined && b === 'versions') {
      if (n === 3 && method === 'GET') return store.versions(a).map((v) => v.version);
      if (n === 3 && method === 'POST') return { id: store.register(a, schemaText(body)) };
      if (n === 4 && c !== undefined && method === 'GET') return store.version(a, c);
    }
  }
  if (head === 'compatibility' && a === 'subjects' && b !== undefined && c === 'versions' && d !== undefined && n === 5 && method === 'POST') {
    const result = store.testCompatibility(b, d, schemaText(body));
    return url.searchParams.get('verbose') === 'true' ? { is_compatible: result.compatible, messages: result.messages } : { is_compatible: result.compatible };
  }
  if (head === 'config' && n <= 2) {
    if (method === 'GET') {
      return { compatibilityLevel: a === undefined ? store.globalLevel() : store.subjectLevel(a, url.searchParams.get('defaultToGlobal') === 'true') };
    }
    if (method === 'PUT') return { compatibility: store.setLevel(a, (body as { compatibility?: unknown } | undefined)?.compatibility) };
  }
  return notFound();
}
