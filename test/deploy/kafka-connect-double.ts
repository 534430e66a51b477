/**
 * TEST DOUBLE of the Kafka Connect REST API (not Kafka Connect): a real HTTP server on
 * 127.0.0.1 that speaks the subset `outbox-cache connectors` uses, with Connect's status codes and
 * error bodies (`{"error_code": ..., "message": ...}`), and a script per connector saying how its
 * status evolves: RUNNING after a few polls, FAILED with a Java stack trace, PAUSED, stale FAILED
 * reports after a change (as Connect gives until the restarted task reports), 409 rebalances.
 *
 * Endpoints: GET /, GET /connectors, GET|PUT /connectors/<name>/config,
 * GET /connectors/<name>/status, POST /connectors/<name>/restart.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a connector behaves after each configuration write or restart. */
export interface ConnectorScript {
  /** Status polls before the connector and its tasks report their final state. Default 2. */
  pollsUntilReady?: number;
  /** Final state: FAILED with this Java trace (on task 0, or on the connector itself). */
  failWith?: { trace: string; part?: 'task' | 'connector' };
  /** Final state PAUSED instead of RUNNING. */
  paused?: boolean;
  /** A PUT answers 400 with these validation errors (nothing is stored). */
  rejectWith?: string[];
  /** This many PUTs answer 409 (rebalance in progress) before one is accepted. */
  rebalances?: number;
  /** After a change, the previous status is reported for this many polls. Default 0. */
  stalePolls?: number;
  /** Number of tasks. Default 1. */
  tasks?: number;
}

/** One request the double received. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly authorization: string | undefined;
}

interface ConnectorState {
  config: Record<string, string>;
  polls: number;
  /** The final state was reached; it stays until the next change or restart. */
  settled: boolean;
  staleLeft: number;
  lastStatus: unknown;
}

const WORKER = '10.9.8.7:8083';

/** The Kafka Connect REST test double. Start with {@link KafkaConnectDouble.start}. */
export class KafkaConnectDouble {
  readonly requests: RecordedRequest[] = [];
  private readonly connectors = new Map<string, ConnectorState>();
  private readonly scripts = new Map<string, ConnectorScript>();
  private basicAuth: string | undefined;

  private constructor(
    private readonly server: Server,
    /** Base URL, e.g. `http://127.0.0.1:40123`. */
    readonly url: string,
  ) {}

  /** Starts the double on a free port of 127.0.0.1. */
  static async start(): Promise<KafkaConnectDouble> {
    const holder: { double?: KafkaConnectDouble } = {};
    const server = createServer((req, res) => {
      void holder.double?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    holder.double = new KafkaConnectDouble(server, `http://127.0.0.1:${port}`);
    return holder.double;
  }

  /**
   * Sets (replaces) the script of connector `name`. It shapes the statuses reported after the
   * next configuration write or restart; a settled status stays as it is until then, as in Connect.
   */
  script(name: string, script: ConnectorScript): void {
    this.scripts.set(name, script);
  }

  /** Requires `Authorization: Basic base64(user:password)` on every request from now on. */
  requireBasicAuth(user: string, password: string): void {
    this.basicAuth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }

  /** The stored configuration of `name` (as GET /connectors/<name>/config returns it). */
  storedConfig(name: string): Record<string, string> | undefined {
    const c = this.connectors.get(name);
    return c && { ...c.config };
  }

  /** Requests of a method and path suffix, e.g. `count('PUT', '/config')`. */
  count(method: string, pathSuffix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.split('?')[0]!.endsWith(pathSuffix)).length;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      return send(res, 500, { error_code: 500, message: `Unrecognized token in request body` });
    }
    const path = req.url ?? '/';
    this.requests.push({ method: req.method ?? '', path, body, authorization: req.headers.authorization });
    if (this.basicAuth && req.headers.authorization !== this.basicAuth) {
      return send(res, 401, { error_code: 401, message: 'User cannot access the resource.' });
    }
    const [pathname, query = ''] = path.split('?') as [string, string | undefined];
    const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (req.method === 'GET' && parts.length === 0) {
      return send(res, 200, { version: '3.8.1', commit: '70d6ff42debf7e17', kafka_cluster_id: 'double-cluster' });
    }
    if (req.method === 'GET' && parts.length === 1 && parts[0] === 'connectors') return send(res, 200, [...this.connectors.keys()]);
    if (parts[0] !== 'connectors' || parts.length !== 3) return send(res, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
    const name = parts[1] as string;
    const action = `${req.method} ${parts[2]}`;
    if (action === 'PUT config') return this.putConfig(res, name, body);
    const state = this.connectors.get(name);
    if (!state) return send(res, 404, { error_code: 404, message: `Connector ${name} not found` });
    if (action === 'GET config') return send(res, 200, { ...state.config, name });
    if (action === 'GET status') return send(res, 200, this.status(name, state));
    if (action === 'POST restart') {
      this.changed(state);
      const includeTasks = /(^|&)includeTasks=true/.test(query);
      return includeTasks ? send(res, 202, this.restarting(name)) : send(res, 204, undefined);
    }
    return send(res, 405, { error_code: 405, message: 'HTTP 405 Method Not Allowed' });
  }

  private putConfig(res: ServerResponse, name: string, body: unknown): void {
    const script = this.scripts.get(name) ?? {};
    if (script.rebalances && script.rebalances > 0) {
      script.rebalances -= 1;
      return send(res, 409, {
        error_code: 409,
        message: 'Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)',
      });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return send(res, 500, { error_code: 500, message: 'Cannot deserialize value of type `java.util.HashMap`' });
    }
    const config = body as Record<string, unknown>;
    if (config.name !== undefined && config.name !== name) {
      return send(res, 400, {
        error_code: 400,
        message: `Connector name configuration (${String(config.name)}) doesn't match connector name in the URL (${name})`,
      });
    }
    if (typeof config['connector.class'] !== 'string') {
      return send(res, 400, { error_code: 400, message: `Connector config ${JSON.stringify(config)} contains no connector type` });
    }
    if (script.rejectWith?.length) {
      return send(res, 400, {
        error_code: 400,
        message:
          `Connector configuration is invalid and contains the following ${script.rejectWith.length} error(s):\n` +
          `${script.rejectWith.join('\n')}\n` +
          'You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`',
      });
    }
    const stored = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
    stored.name = name;
    const existing = this.connectors.get(name);
    if (existing) {
      existing.config = stored;
      this.changed(existing);
      return send(res, 200, { name, config: stored, tasks: [], type: 'source' });
    }
    this.connectors.set(name, { config: stored, polls: 0, settled: false, staleLeft: 0, lastStatus: undefined });
    send(res, 201, { name, config: stored, tasks: [], type: 'source' });
  }

  private changed(state: ConnectorState): void {
    const script = this.scripts.get(state.config.name ?? '') ?? {};
    state.polls = 0;
    state.settled = false;
    state.staleLeft = state.lastStatus === undefined ? 0 : (script.stalePolls ?? 0);
  }

  private status(name: string, state: ConnectorState): unknown {
    if (state.staleLeft > 0) {
      state.staleLeft -= 1;
      return state.lastStatus;
    }
    if (state.settled) return state.lastStatus;
    const script = this.scripts.get(name) ?? {};
    state.polls += 1;
    const taskCount = script.tasks ?? 1;
    const entry = (s: string, trace?: string): Record<string, unknown> =>
      trace === undefined ? { state: s, worker_id: WORKER } : { state: s, worker_id: WORKER, trace };
    // Task 0 carries the scripted failure; the others keep running, as with a single bad task.
    const tasks = (s: string, trace?: string): unknown[] =>
      Array.from({ length: taskCount }, (_, id) =>
        id === 0 ? { id, ...entry(s, trace) } : { id, ...entry(s === 'FAILED' ? 'RUNNING' : s) },
      );
    let status: unknown;
    const ready = script.pollsUntilReady ?? 2;
    if (state.polls === 1 && ready > 1) status = { name, connector: entry('UNASSIGNED'), tasks: [], type: 'source' };
    else if (state.polls < ready) status = { name, connector: entry('RUNNING'), tasks: tasks('UNASSIGNED'), type: 'source' };
    else if (script.failWith?.part === 'connector') status = { name, connector: entry('FAILED', script.failWith.trace), tasks: [], type: 'source' };
    else if (script.failWith) status = { name, connector: entry('RUNNING'), tasks: tasks('FAILED', script.failWith.trace), type: 'source' };
    else if (script.paused) status = { name, connector: entry('PAUSED'), tasks: tasks('PAUSED'), type: 'source' };
    else status = { name, connector: entry('RUNNING'), tasks: tasks('RUNNING'), type: 'source' };
    state.settled = state.polls >= ready;
    state.lastStatus = status;
    return status;
  }

  private restarting(name: string): unknown {
    const count = this.scripts.get(name)?.tasks ?? 1;
    const tasks = Array.from({ length: count }, (_, id) => ({ id, state: 'RESTARTING', worker_id: WORKER }));
    return { name, connector: { state: 'RESTARTING', worker_id: WORKER }, tasks, type: 'source' };
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A stack trace as Kafka Connect reports a Debezium MySQL task that lacks a privilege. */
export const ACCESS_DENIED_TRACE = [
  'org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.',
  '\tat io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:67)',
  '\tat io.debezium.connector.binlog.BinlogStreamingChangeEventSource$ReaderThreadLifecycleListener.onCommunicationFailure(BinlogStreamingChangeEventSource.java:1305)',
  '\tat com.github.shyiko.mysql.binlog.BinaryLogClient.listenForEventPackets(BinaryLogClient.java:1122)',
  '\tat com.github.shyiko.mysql.binlog.BinaryLogClient.connect(BinaryLogClient.java:657)',
  '\tat com.github.shyiko.mysql.binlog.BinaryLogClient$7.run(BinaryLogClient.java:959)',
  '\tat java.base/java.lang.Thread.run(Thread.java:1583)',
  "Caused by: io.debezium.DebeziumException: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation Error code: 1227; SQLSTATE: 42000.",
  '\tat io.debezium.connector.binlog.BinlogStreamingChangeEventSource.wrap(BinlogStreamingChangeEventSource.java:1246)',
  '\t... 5 more',
  "Caused by: com.github.shyiko.mysql.binlog.network.ServerException: Access denied; you need (at least one of) the REPLICATION SLAVE privilege(s) for this operation",
  '\tat com.github.shyiko.mysql.binlog.BinaryLogClient.listenForEventPackets(BinaryLogClient.java:1084)',
  '\t... 3 more',
  '',
].join('\n');
