/**
 * A small client for the Kafka Connect REST API: the calls `outbox-cache connectors` needs.
 * Errors are {@link ConnectRestError}s, retriable when the same call may succeed later
 * (worker unreachable, timeout, rebalance in progress, 5xx).
 */
import { OutboxCacheError } from '../errors.js';
import { parseConnectorStatus, type ConnectorStatus } from './status.js';

/** A Kafka Connect REST call failed. `status` is the HTTP status when there was a response. */
export class ConnectRestError extends OutboxCacheError {
  readonly status: number | undefined;
  constructor(message: string, options: { code: string; retriable: boolean; status?: number; cause?: unknown }) {
    super(message, options);
    this.status = options.status;
  }
}

/** Options of {@link KafkaConnectClient}. */
export interface KafkaConnectClientOptions {
  /** Base URL of a Connect worker, e.g. `http://connect:8083`. `user:password@` becomes basic auth. */
  readonly url: string;
  /** Per-request timeout in milliseconds. Default 15,000 (Connect's own REST timeout is 90 s). */
  readonly requestTimeoutMs?: number;
  /** Aborts requests in flight (e.g. on Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
}

/** Whether a `PUT /connectors/<name>/config` created the connector or changed an existing one. */
export type PutOutcome = 'created' | 'updated';

/** Kafka Connect REST client. Stateless apart from its options; safe to share. */
export class KafkaConnectClient {
  /** The worker URL without credentials, for messages. */
  readonly displayUrl: string;
  private readonly base: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private readonly fetchFn: typeof fetch;

  /** Throws a non-retriable ConnectRestError (`CONNECT_BAD_URL`) when `url` is not http(s). */
  constructor(options: KafkaConnectClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new ConnectRestError(`invalid Kafka Connect URL '${options.url}'`, { code: 'CONNECT_BAD_URL', retriable: false });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConnectRestError(`Kafka Connect URL must be http or https, got '${url.protocol}'`, {
        code: 'CONNECT_BAD_URL',
        retriable: false,
      });
    }
    this.authorization =
      url.username || url.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
        : undefined;
    url.username = '';
    url.password = '';
    this.base = url.toString().replace(/\/+$/, '');
    this.displayUrl = this.base;
    this.timeoutMs = options.requestTimeoutMs ?? 15_000;
    this.signal = options.signal;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** `GET /`: the worker's Kafka version. */
  async serverInfo(): Promise<{ version: string; commit: string }> {
    const body = (await this.request('GET', '/')).body;
    const info = isObject(body) ? body : {};
    return { version: String(info.version ?? 'unknown'), commit: String(info.commit ?? 'unknown') };
  }

  /** `GET /connectors/<name>/config`; undefined when no such connector exists. */
  async getConnectorConfig(name: string): Promise<Record<string, string> | undefined> {
    const res = await this.request('GET', `/connectors/${encodeURIComponent(name)}/config`, undefined, [404]);
    if (res.status === 404) return undefined;
    if (!isObject(res.body)) throw this.unexpected('GET config', res.body);
    return Object.fromEntries(Object.entries(res.body).map(([k, v]) => [k, String(v)]));
  }

  /** `PUT /connectors/<name>/config`: creates or replaces the connector's configuration. */
  async putConnectorConfig(name: string, config: Readonly<Record<string, string>>): Promise<PutOutcome> {
    const res = await this.request('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
    return res.status === 201 ? 'created' : 'updated';
  }

  /** `GET /connectors/<name>/status`; undefined when no such connector exists. */
  async getConnectorStatus(name: string): Promise<ConnectorStatus | undefined> {
    const res = await this.request('GET', `/connectors/${encodeURIComponent(name)}/status`, undefined, [404]);
    if (res.status === 404) return undefined;
    const status = parseConnectorStatus(res.body);
    if (!status) throw this.unexpected('GET status', res.body);
    return status;
  }

  /** `POST /connectors/<name>/restart?includeTasks=…&onlyFailed=…` (Kafka 3.0+, KIP-745). */
  async restartConnector(name: string, options: { includeTasks: boolean; onlyFailed: boolean }): Promise<void> {
    const query = `includeTasks=${options.includeTasks}&onlyFailed=${options.onlyFailed}`;
    await this.request('POST', `/connectors/${encodeURIComponent(name)}/restart?${query}`);
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = [],
  ): Promise<{ status: number; body: unknown }> {
    const what = `${method} ${this.base}${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.authorization) headers.authorization = this.authorization;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: this.signal ? AbortSignal.any([timeout, this.signal]) : timeout,
      });
    } catch (err) {
      if (timeout.aborted) {
        throw new ConnectRestError(`${what}: no answer within ${this.timeoutMs} ms`, { code: 'CONNECT_TIMEOUT', retriable: true, cause: err });
      }
      if (this.signal?.aborted) throw new ConnectRestError(`${what}: aborted`, { code: 'CONNECT_ABORTED', retriable: false, cause: err });
      const reason = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ConnectRestError(`${what}: Kafka Connect unreachable (${reason})`, { code: 'CONNECT_UNREACHABLE', retriable: true, cause: err });
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // Proxies in front of Connect answer HTML or text; keep it for the message.
    }
    if (res.ok || accept.includes(res.status)) return { status: res.status, body: parsed };
    throw httpError(what, res.status, parsed);
  }

  private unexpected(what: string, body: unknown): ConnectRestError {
    return new ConnectRestError(`${what} at ${this.base}: unexpected answer ${JSON.stringify(body)?.slice(0, 200)}`, {
      code: 'CONNECT_UNEXPECTED_ANSWER',
      retriable: false,
    });
  }
}

function httpError(what: string, status: number, body: unknown): ConnectRestError {
  const message = isObject(body) && typeof body.message === 'string' ? body.message : String(body ?? '').slice(0, 500);
  const text = `${what}: HTTP ${status}${message ? `\n${message}` : ''}`;
  if (status === 409) return new ConnectRestError(text, { code: 'CONNECT_REBALANCING', retriable: true, status });
  if (status >= 500) return new ConnectRestError(text, { code: 'CONNECT_SERVER_ERROR', retriable: true, status });
  if (status === 400) return new ConnectRestError(text, { code: 'CONNECT_INVALID_CONFIG', retriable: false, status });
  if (status === 401 || status === 403) return new ConnectRestError(text, { code: 'CONNECT_UNAUTHORIZED', retriable: false, status });
  return new ConnectRestError(text, { code: `CONNECT_HTTP_${status}`, retriable: false, status });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
