/**
 * A small Confluent Schema Registry REST client over `fetch`, covering the calls this project
 * makes. It exists instead of @kafkajs/confluent-schema-registry because that library (through
 * mappersmith) reports a refused connection as an HTTP 400 response, drops the registry's
 * `error_code`, and retries on its own: the sink must tell "unknown schema id" (never retry,
 * dead-letter) from "registry down" (pause and retry), and own its retry policy.
 *
 * Every failure is a {@link RegistryError}: retriable for unreachable, timeout, 5xx, 408, 429,
 * authentication refusals and malformed responses; not retriable for the registry's definite
 * answers (unknown id, subject or version not found, incompatible or invalid schema).
 */
import { ConfigError, SchemaError } from '../errors.js';
import { isCompatibilityLevel, type CompatibilityLevel } from './compatibility.js';

/** Connection settings. Credentials may also be embedded in `url` (`http://user:pass@host`). */
export interface SchemaRegistryClientOptions {
  /** Base URL of the registry, e.g. `http://localhost:8081`. */
  readonly url: string;
  /** HTTP basic authentication; overrides credentials embedded in `url`. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Per-request deadline in milliseconds, body included. Default 10,000. */
  readonly timeoutMs?: number;
}

/** A schema version as the registry stores it under a subject. */
export interface RegisteredSchema {
  readonly subject: string;
  readonly id: number;
  readonly version: number;
  /** Schema text (JSON) exactly as the registry returns it. */
  readonly schema: string;
}

/** A failed registry call; `status`/`errorCode` are the HTTP status and Confluent `error_code`. */
export class RegistryError extends SchemaError {
  readonly status: number | undefined;
  readonly errorCode: number | undefined;
  constructor(message: string, options: { code: string; retriable: boolean; status?: number; errorCode?: number; cause?: unknown }) {
    super(message, options);
    this.status = options.status;
    this.errorCode = options.errorCode;
  }
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** Confluent error codes that are definite answers, with the project code each maps to. */
const DEFINITE_ANSWERS: Readonly<Record<number, string>> = {
  40401: 'SCHEMA_SUBJECT_NOT_FOUND',
  40402: 'SCHEMA_VERSION_NOT_FOUND',
  40403: 'SCHEMA_NOT_FOUND',
  40408: 'SCHEMA_SUBJECT_CONFIG_NOT_FOUND',
  409: 'SCHEMA_INCOMPATIBLE',
  42201: 'SCHEMA_INVALID',
  42202: 'SCHEMA_INVALID_VERSION',
  42203: 'SCHEMA_INVALID_COMPATIBILITY_LEVEL',
};

/** Client for the Schema Registry REST API (the subset this project uses). */
export class SchemaRegistryClient {
  /** Base URL without credentials: safe to log. */
  readonly baseUrl: string;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;

  constructor(options: SchemaRegistryClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConfigError([{ setting: 'SCHEMA_REGISTRY_URL', message: 'not a valid URL' }]);
    }
    const embedded = url.username ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
    url.username = '';
    url.password = '';
    this.baseUrl = url.toString().replace(/\/+$/, '');
    const auth = options.auth ?? embedded;
    this.#authorization = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Schema text registered under `id`. Unknown id: non-retriable `SCHEMA_UNKNOWN_ID`. */
  async getSchemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    const body = await this.#request('GET', `/schemas/ids/${id}`, undefined, unknownIdAnswer(id));
    return { schema: stringField(body, 'schema'), schemaType: optionalString(body, 'schemaType') ?? 'AVRO' };
  }

  /** Every (subject, version) under which `id` is registered. Unknown id: `SCHEMA_UNKNOWN_ID`. */
  async getSubjectVersionsById(id: number): Promise<{ subject: string; version: number }[]> {
    const body = await this.#request('GET', `/schemas/ids/${id}/versions`, undefined, unknownIdAnswer(id));
    if (!Array.isArray(body)) throw badResponse(`/schemas/ids/${id}/versions`);
    return body.map((entry: unknown) => ({ subject: stringField(entry, 'subject'), version: numberField(entry, 'version') }));
  }

  /** Latest version registered under `subject`. */
  async getLatestSchema(subject: string): Promise<RegisteredSchema> {
    return registered(await this.#request('GET', `/subjects/${enc(subject)}/versions/latest`), subject);
  }

  /** Version numbers registered under `subject`, oldest first. */
  async getVersions(subject: string): Promise<number[]> {
    const body = await this.#request('GET', `/subjects/${enc(subject)}/versions`);
    if (!Array.isArray(body) || !body.every((v) => Number.isInteger(v))) throw badResponse(`/subjects/${subject}/versions`);
    return body as number[];
  }

  /**
   * Finds `schema` (JSON text) among the versions of `subject` without registering it; undefined
   * when the subject does not exist or does not hold that schema.
   */
  async lookupSchema(subject: string, schema: string): Promise<RegisteredSchema | undefined> {
    try {
      return registered(await this.#request('POST', `/subjects/${enc(subject)}`, { schema }), subject);
    } catch (err) {
      if (err instanceof RegistryError && (err.errorCode === 40401 || err.errorCode === 40403)) return undefined;
      throw err;
    }
  }

  /** Registers `schema` under `subject` (idempotent: an identical schema keeps its id). Returns the id. */
  async registerSchema(subject: string, schema: string): Promise<number> {
    return numberField(await this.#request('POST', `/subjects/${enc(subject)}/versions`, { schema }), 'id');
  }

  /**
   * Asks the registry whether `schema` may follow `version` of `subject` under the subject's level.
   * A subject that does not exist yet accepts anything.
   */
  async testCompatibility(subject: string, schema: string, version: number | 'latest' = 'latest'): Promise<{ compatible: boolean; messages: string[] }> {
    let body: unknown;
    try {
      body = await this.#request('POST', `/compatibility/subjects/${enc(subject)}/versions/${version}?verbose=true`, { schema });
    } catch (err) {
      // Registries before Confluent 7 answer 40401 for a subject with no versions yet.
      if (err instanceof RegistryError && err.errorCode === 40401) return { compatible: true, messages: [] };
      throw err;
    }
    const compatible = (body as { is_compatible?: unknown } | null)?.is_compatible;
    if (typeof compatible !== 'boolean') throw badResponse(`/compatibility/subjects/${subject}`);
    const messages = (body as { messages?: unknown }).messages;
    return { compatible, messages: Array.isArray(messages) ? messages.map(String) : [] };
  }

  /** Compatibility level in force for `subject`: its own, else the registry's global level. */
  async getCompatibilityLevel(subject: string): Promise<CompatibilityLevel> {
    let body: unknown;
    try {
      body = await this.#request('GET', `/config/${enc(subject)}?defaultToGlobal=true`);
    } catch (err) {
      // Older registries ignore defaultToGlobal and answer "not found" when the subject has no level.
      if (!(err instanceof RegistryError && (err.errorCode === 40401 || err.errorCode === 40408))) throw err;
      body = await this.#request('GET', '/config');
    }
    const level = (body as { compatibilityLevel?: unknown; compatibility?: unknown } | null)?.compatibilityLevel ?? (body as { compatibility?: unknown } | null)?.compatibility;
    if (!isCompatibilityLevel(level)) throw badResponse(`/config/${subject}`);
    return level;
  }

  async #request(method: 'GET' | 'POST', path: string, json?: unknown, answer404?: (errorCode: number | undefined) => RegistryError | undefined): Promise<unknown> {
    const where = `${method} ${this.baseUrl}${path.replace(/\?.*$/, '')}`;
    const headers: Record<string, string> = { accept: `${CONTENT_TYPE}, application/json` };
    if (json !== undefined) headers['content-type'] = CONTENT_TYPE;
    if (this.#authorization) headers.authorization = this.#authorization;
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      throw transportError(err, where, this.#timeoutMs);
    }
    const body = parseJson(text);
    if (status >= 200 && status < 300) {
      if (body === undefined) throw badResponse(where, status);
      return body;
    }
    const errorCode = typeof (body as { error_code?: unknown } | undefined)?.error_code === 'number' ? (body as { error_code: number }).error_code : undefined;
    const message = typeof (body as { message?: unknown } | undefined)?.message === 'string' ? (body as { message: string }).message : text.slice(0, 200);
    if (status === 404) {
      const mapped = answer404?.(errorCode);
      if (mapped) throw mapped;
    }
    throw httpError(where, status, errorCode, message);
  }
}

function enc(subject: string): string {
  return encodeURIComponent(subject);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unknownIdAnswer(id: number): (errorCode: number | undefined) => RegistryError | undefined {
  return (errorCode) =>
    errorCode === 40403
      ? new RegistryError(`schema id ${id} is not known to the Schema Registry: the value was written against another registry, or the schema was deleted`, {
          code: 'SCHEMA_UNKNOWN_ID',
          retriable: false,
          status: 404,
          errorCode,
        })
      : undefined;
}

function httpError(where: string, status: number, errorCode: number | undefined, message: string): RegistryError {
  const definite = errorCode === undefined ? undefined : DEFINITE_ANSWERS[errorCode];
  if (definite && status >= 400 && status < 500) {
    return new RegistryError(`${where}: ${message} (HTTP ${status}, error code ${errorCode})`, { code: definite, retriable: false, status, errorCode });
  }
  if (status === 401 || status === 403) {
    return new RegistryError(`${where}: the Schema Registry refused the credentials (HTTP ${status}); check the registry user and password`, {
      code: 'SCHEMA_REGISTRY_AUTH',
      retriable: true,
      status,
      errorCode,
    });
  }
  if (status >= 500 || status === 408 || status === 429) {
    return new RegistryError(`${where}: the Schema Registry is unavailable (HTTP ${status}${errorCode ? `, error code ${errorCode}` : ''}): ${message}`, {
      code: 'SCHEMA_REGISTRY_UNAVAILABLE',
      retriable: true,
      status,
      errorCode,
    });
  }
  // A 404 without a schema-specific error code is a wrong URL or a proxy, not an answer about a schema.
  const retriable = status === 404;
  return new RegistryError(`${where}: unexpected answer from the Schema Registry (HTTP ${status}${errorCode ? `, error code ${errorCode}` : ''}): ${message}`, {
    code: retriable ? 'SCHEMA_REGISTRY_BAD_RESPONSE' : 'SCHEMA_REGISTRY_REJECTED',
    retriable,
    status,
    errorCode,
  });
}

function transportError(err: unknown, where: string, timeoutMs: number): RegistryError {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new RegistryError(`${where}: no answer from the Schema Registry within ${timeoutMs} ms`, { code: 'SCHEMA_REGISTRY_TIMEOUT', retriable: true, cause: err });
  }
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  const reason = typeof cause?.code === 'string' ? cause.code : err instanceof Error ? err.message : String(err);
  return new RegistryError(`${where}: cannot reach the Schema Registry (${reason})`, { code: 'SCHEMA_REGISTRY_UNREACHABLE', retriable: true, cause: err });
}

function badResponse(where: string, status?: number): RegistryError {
  return new RegistryError(`${where}: the Schema Registry sent a response this client does not understand`, { code: 'SCHEMA_REGISTRY_BAD_RESPONSE', retriable: true, status });
}

function stringField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  if (typeof value !== 'string') throw badResponse(`field ${name}`);
  return value;
}

function optionalString(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

function numberField(body: unknown, name: string): number {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badResponse(`field ${name}`);
  return value;
}

function registered(body: unknown, subject: string): RegisteredSchema {
  return { subject, id: numberField(body, 'id'), version: numberField(body, 'version'), schema: stringField(body, 'schema') };
}
