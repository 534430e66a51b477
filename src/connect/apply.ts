/**
 * Applying a connector: make Kafka Connect run exactly the given configuration, then wait until
 * the connector and its tasks are RUNNING (or one of them FAILED) within a deadline. The client
 * is passed in; this file only sequences the calls.
 *
 * Idempotent: when the stored configuration already equals the desired one, nothing is written
 * (a PUT of an identical configuration would still restart the connector); a connector that is
 * FAILED with the desired configuration is restarted once (failed parts only), since re-applying
 * is how an operator says "try again" after fixing the database or the network.
 */
import { isRetriable, errorMessage } from '../errors.js';
import { retry, sleep } from '../retry.js';
import type { KafkaConnectClient } from './rest-client.js';
import type { ConnectorSpec } from './connector-file.js';
import { assessStatus, describeStatus, failuresOf, type ConnectorStatus, type Failure } from './status.js';

/** Options of {@link applyConnector} and {@link waitUntilRunning}. Times in milliseconds. */
export interface ApplyOptions {
  /** Overall deadline, from the call, for writing the configuration and reaching RUNNING. */
  readonly timeoutMs: number;
  /** Delay between status polls. Default 500. */
  readonly pollIntervalMs?: number;
  /**
   * How long after a change a FAILED state identical to one seen before the change is taken for
   * Connect's stale report of the old task rather than a new failure. Default 10,000.
   */
  readonly settleMs?: number;
  readonly signal?: AbortSignal;
  /** Called with a line of progress whenever the situation changes. */
  readonly onProgress?: (line: string) => void;
  /** Clock (tests). Default Date.now. */
  readonly now?: () => number;
}

/** What apply did to the stored configuration. */
export type ConfigChange = 'created' | 'updated' | 'unchanged' | 'restarted';

/** How waiting ended. */
export type WaitOutcome =
  | { readonly kind: 'running'; readonly status: ConnectorStatus }
  | { readonly kind: 'failed'; readonly status: ConnectorStatus; readonly failures: readonly Failure[] }
  | { readonly kind: 'halted'; readonly status: ConnectorStatus; readonly state: string }
  | { readonly kind: 'timeout'; readonly status: ConnectorStatus | undefined; readonly reason: string }
  | { readonly kind: 'aborted'; readonly status: ConnectorStatus | undefined };

/** Result of {@link applyConnector}. */
export interface ApplyResult {
  readonly change: ConfigChange;
  readonly outcome: WaitOutcome;
}

/**
 * True when Connect's stored configuration (which also holds `name`) equals `desired`, key for
 * key and value for value. Placeholders for config providers compare as written: Connect stores
 * them unresolved.
 */
export function sameConfig(stored: Readonly<Record<string, string>>, desired: Readonly<Record<string, string>>): boolean {
  const strip = (c: Readonly<Record<string, string>>): [string, string][] =>
    Object.entries(c)
      .filter(([k]) => k !== 'name')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(strip(stored)) === JSON.stringify(strip(desired));
}

/**
 * Writes `spec` to Kafka Connect if it differs from what is stored (or restarts the failed parts
 * of an unchanged, FAILED connector), then waits as {@link waitUntilRunning} does. Retriable REST
 * errors (worker starting, rebalance) are retried until the deadline; others are thrown.
 */
export async function applyConnector(client: KafkaConnectClient, spec: ConnectorSpec, options: ApplyOptions): Promise<ApplyResult> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const progress = options.onProgress ?? (() => {});
  const retried = <T>(fn: () => Promise<T>): Promise<T> =>
    retry(fn, {
      initialDelayMs: 250,
      maxDelayMs: 2_000,
      signal: options.signal,
      shouldRetry: (err) => isRetriable(err) && now() < deadline,
      onRetry: (err, _attempt, delayMs) => progress(`Kafka Connect not ready (${firstLine(errorMessage(err))}); retrying in ${delayMs} ms`),
    });

  const stored = await retried(() => client.getConnectorConfig(spec.name));
  const before = stored ? await retried(() => client.getConnectorStatus(spec.name)) : undefined;
  let change: ConfigChange;
  if (stored && sameConfig(stored, spec.config)) {
    if (before && failuresOf(before).length > 0) {
      await retried(() => client.restartConnector(spec.name, { includeTasks: true, onlyFailed: true }));
      change = 'restarted';
      progress(`connector ${spec.name}: configuration unchanged, restarting its failed parts`);
    } else {
      change = 'unchanged';
      progress(`connector ${spec.name}: configuration unchanged`);
    }
  } else {
    change = await retried(() => client.putConnectorConfig(spec.name, spec.config));
    progress(`connector ${spec.name}: configuration ${change}`);
  }
  const stale = change === 'unchanged' || !before ? [] : failuresOf(before);
  const changedAt = now();
  const settleMs = options.settleMs ?? 10_000;
  const outcome = await waitUntilRunning(client, spec.name, {
    ...options,
    timeoutMs: Math.max(0, deadline - now()),
    isStale: (f) => now() - changedAt < settleMs && stale.some((s) => s.what === f.what && s.trace === f.trace),
  });
  return { change, outcome };
}

/**
 * Polls `GET /connectors/<name>/status` until the connector and all its tasks (at least one) are
 * RUNNING, something FAILED, the connector is PAUSED/STOPPED, the deadline passes or the signal
 * aborts. A missing connector and retriable REST errors count as "not yet".
 */
export async function waitUntilRunning(
  client: KafkaConnectClient,
  name: string,
  options: ApplyOptions & { readonly isStale?: (failure: Failure) => boolean },
): Promise<WaitOutcome> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const progress = options.onProgress ?? (() => {});
  let status: ConnectorStatus | undefined;
  let said = '';
  for (;;) {
    if (options.signal?.aborted) return { kind: 'aborted', status };
    let reason: string;
    try {
      status = await client.getConnectorStatus(name);
      if (!status) reason = 'connector not created yet';
      else {
        const verdict = assessStatus(status, options.isStale);
        if (verdict.kind === 'running') return { kind: 'running', status };
        if (verdict.kind === 'failed') return { kind: 'failed', status, failures: verdict.failures };
        if (verdict.kind === 'halted') return { kind: 'halted', status, state: verdict.state };
        reason = describeStatus(status);
      }
    } catch (err) {
      if (!isRetriable(err)) throw err;
      if (options.signal?.aborted) return { kind: 'aborted', status };
      reason = firstLine(errorMessage(err));
    }
    if (reason !== said) progress(`waiting: ${reason}`);
    said = reason;
    if (now() >= deadline) return { kind: 'timeout', status, reason };
    await sleep(Math.min(options.pollIntervalMs ?? 500, Math.max(0, deadline - now())), options.signal);
  }
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
