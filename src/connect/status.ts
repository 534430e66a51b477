/**
 * Kafka Connect connector status (`GET /connectors/<name>/status`): parsing, the verdict the CLI
 * acts on, and readable failure traces. Pure.
 */

/** States Kafka Connect reports for a connector or a task. */
export type ConnectState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING' | 'STOPPED';

/** The state of the connector itself or of one task. */
export interface StateEntry {
  readonly state: string;
  /** `host:port` of the worker running it (empty when unassigned). */
  readonly workerId: string;
  /** Java stack trace text, present when FAILED. */
  readonly trace?: string;
}

/** A connector's status as Kafka Connect reports it. */
export interface ConnectorStatus {
  readonly name: string;
  readonly connector: StateEntry;
  readonly tasks: readonly (StateEntry & { readonly id: number })[];
}

/** One failed part of a connector. */
export interface Failure {
  /** `connector` or `task <id>`. */
  readonly what: string;
  readonly workerId: string;
  readonly trace: string;
}

/**
 * What a status means for someone waiting for the connector to run:
 * `running` (the connector and at least one task, all of them, RUNNING), `failed`, `halted`
 * (PAUSED or STOPPED: it will not run until resumed), or `pending` (still starting).
 */
export type StatusVerdict =
  | { readonly kind: 'running' }
  | { readonly kind: 'failed'; readonly failures: readonly Failure[] }
  | { readonly kind: 'halted'; readonly state: string }
  | { readonly kind: 'pending'; readonly reason: string };

/** Parses the JSON body of `GET /connectors/<name>/status`; undefined when it has another shape. */
export function parseConnectorStatus(body: unknown): ConnectorStatus | undefined {
  if (!isObject(body) || typeof body.name !== 'string') return undefined;
  const connector = parseEntry(body.connector);
  if (!connector || !Array.isArray(body.tasks)) return undefined;
  const tasks: (StateEntry & { id: number })[] = [];
  for (const raw of body.tasks) {
    const entry = parseEntry(raw);
    if (!entry || !isObject(raw) || typeof raw.id !== 'number') return undefined;
    tasks.push({ ...entry, id: raw.id });
  }
  return { name: body.name, connector, tasks };
}

/**
 * Decides what `status` means. `isStale` lets the caller disregard a failure it saw before it
 * changed the connector (Connect keeps reporting the old FAILED state until the restarted task
 * reports again); a disregarded failure counts as pending.
 */
export function assessStatus(status: ConnectorStatus, isStale: (failure: Failure) => boolean = () => false): StatusVerdict {
  const failures = failuresOf(status);
  const fresh = failures.filter((f) => !isStale(f));
  if (fresh.length > 0) return { kind: 'failed', failures: fresh };
  if (failures.length > 0) return { kind: 'pending', reason: 'waiting for the restarted connector to report' };
  const state = status.connector.state;
  if (state === 'PAUSED' || state === 'STOPPED') return { kind: 'halted', state };
  if (state !== 'RUNNING') return { kind: 'pending', reason: `connector ${state}` };
  if (status.tasks.length === 0) return { kind: 'pending', reason: 'no task assigned yet' };
  const notRunning = status.tasks.find((t) => t.state !== 'RUNNING');
  if (notRunning) {
    if (notRunning.state === 'PAUSED' || notRunning.state === 'STOPPED') return { kind: 'halted', state: notRunning.state };
    return { kind: 'pending', reason: `task ${notRunning.id} ${notRunning.state}` };
  }
  return { kind: 'running' };
}

/** Every FAILED part of the connector (the connector first, then tasks by id). */
export function failuresOf(status: ConnectorStatus): Failure[] {
  const failures: Failure[] = [];
  if (status.connector.state === 'FAILED') {
    failures.push({ what: 'connector', workerId: status.connector.workerId, trace: status.connector.trace ?? '' });
  }
  for (const task of [...status.tasks].sort((a, b) => a.id - b.id)) {
    if (task.state === 'FAILED') failures.push({ what: `task ${task.id}`, workerId: task.workerId, trace: task.trace ?? '' });
  }
  return failures;
}

/** One line, e.g. `connector RUNNING on 10.0.0.5:8083; task 0 FAILED on 10.0.0.5:8083`. */
export function describeStatus(status: ConnectorStatus): string {
  const where = (e: StateEntry): string => (e.workerId ? ` on ${e.workerId}` : '');
  const parts = [`connector ${status.connector.state}${where(status.connector)}`];
  for (const t of status.tasks) parts.push(`task ${t.id} ${t.state}${where(t)}`);
  if (status.tasks.length === 0) parts.push('no tasks');
  return parts.join('; ');
}

const FRAME = /^\s+at\s/;
const MORE = /^\s+\.\.\. \d+ more$/;
const CAUSE = /^\s*(Caused by|Suppressed): /;

/**
 * The exception lines of a Java stack trace: the top exception and each `Caused by:`, without
 * frames. The root cause (last line) is usually the one that says what to fix.
 */
export function traceCauses(trace: string): string[] {
  const causes: string[] = [];
  let inHeader = true;
  for (const line of trace.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    if (FRAME.test(line) || MORE.test(line)) {
      inHeader = false;
      continue;
    }
    if (CAUSE.test(line) || causes.length === 0) {
      causes.push(line.trim().replace(/^Caused by: /, ''));
      inHeader = true;
    } else if (inHeader) {
      // Exception messages may span lines (e.g. Connect's validation messages).
      causes[causes.length - 1] += ` ${line.trim()}`;
    }
  }
  return causes;
}

/**
 * A failure, readable in a terminal: what failed where, its chain of causes, then the trace with
 * real line breaks, indented, keeping `maxFrames` frames per exception (all when Infinity).
 */
export function formatFailure(failure: Failure, maxFrames = 8): string {
  const lines = [`${failure.what} FAILED${failure.workerId ? ` on worker ${failure.workerId}` : ''}`];
  const causes = traceCauses(failure.trace);
  if (causes.length === 0) return `${lines[0]} (Kafka Connect gave no trace)`;
  causes.forEach((cause, i) => lines.push(`  ${i === 0 ? 'error:' : 'caused by:'} ${cause}`));
  lines.push('  trace:');
  let frames = 0;
  let omitted = 0;
  const flush = (): void => {
    if (omitted > 0) lines.push(`        ... ${omitted} more frames (--full-trace shows them)`);
    omitted = 0;
  };
  for (const line of failure.trace.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    if (FRAME.test(line)) {
      frames += 1;
      if (frames > maxFrames) omitted += 1;
      else lines.push(`      ${line.trim()}`);
      continue;
    }
    flush();
    frames = 0;
    lines.push(MORE.test(line) ? `      ${line.trim()}` : `    ${line.trim()}`);
  }
  flush();
  return lines.join('\n');
}

function parseEntry(raw: unknown): StateEntry | undefined {
  if (!isObject(raw) || typeof raw.state !== 'string') return undefined;
  const workerId = typeof raw.worker_id === 'string' ? raw.worker_id : '';
  return typeof raw.trace === 'string' ? { state: raw.state, workerId, trace: raw.trace } : { state: raw.state, workerId };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
