/**
 * `outbox-cache lab`: every strategy under the same workload and fault schedule, measured from
 * ground truth. Phases: start the servers and strategies; run the workload with the faults for
 * `durationMs`; end the faults and let every strategy settle (relays caught up, queues drained,
 * flushes done) while the auditor finishes its checks (the last ones are due 10 s after the last
 * write); then read the database's versions and every key's state, and summarize.
 */
import { errorMessage } from '../errors.js';
import { sleep } from '../retry.js';
import { CheckQueue } from './audit-check.js';
import { runAuditor } from './auditor-loop.js';
import { startFaults } from './fault-injector.js';
import { defaultFaultSchedule, type FaultKind } from './faults.js';
import { allRows, loadItem, nextItemValue, updateItem } from './item-table.js';
import { openLabEnv, whenReady, type LabEnv } from './lab-env.js';
import { percentile, StrategyTally, TruthBook } from './measure.js';
import { summarizeStrategy, type LabResult } from './results.js';
import type { LabStrategy, StrategyContext, StrategyDefinition } from './strategy.js';
import { runWorkload, pickKey, type WorkloadLane } from './workload.js';

/** Options of {@link runLab}. Durations in ms. */
export interface LabOptions {
  readonly strategies: readonly StrategyDefinition[];
  readonly durationMs: number;
  /** Writers per strategy. */
  readonly writers: number;
  /** Readers per strategy. */
  readonly readers: number;
  /** Items per strategy. */
  readonly keys: number;
  readonly hotKeys: number;
  readonly hotShare: number;
  /** Readers pause a random 0..N ms between their database read and their fill. */
  readonly fillDelayMs: number;
  readonly writePauseMs: number;
  readonly readPauseMs: number;
  readonly faults: ReadonlySet<FaultKind>;
  /** Start a replica delayed this many seconds (replica-reads fault); undefined: none. */
  readonly replicaDelaySeconds?: number;
  /** The auditor's horizons. Default [1000, 10000]. */
  readonly horizonsMs?: readonly number[];
  /** TTL of cache entries (all but TTL-only). Default 600,000. */
  readonly entryTtlMs?: number;
  /** How long to wait for every strategy to settle. Default 30,000. */
  readonly settleTimeoutMs?: number;
  /** An existing MariaDB; default: a local one. */
  readonly mysqlUrl?: string;
  /** Aborting ends the workload early; the results are still computed. */
  readonly signal: AbortSignal;
  /** Lines about what is being started. */
  readonly say: (text: string) => void;
  /** Warnings (a fault that could not be applied). */
  readonly warn: (text: string) => void;
  /** Called about every 250 ms with the run's state. */
  readonly onProgress?: (progress: LabProgress) => void;
}

/** The run's state, for a progress display. */
export interface LabProgress {
  readonly phase: 'running' | 'settling';
  readonly elapsedMs: number;
  readonly durationMs: number;
  readonly activeFaults: readonly FaultKind[];
  /** Auditor checks still due. */
  readonly pendingChecks: number;
  readonly strategies: readonly { readonly name: string; readonly writes: number; readonly reads: number; readonly staleReads: number; readonly inconsistent: number }[];
}

/** What a strategy's context updates while it runs. */
interface LaneState {
  /** Writes still to die at the crash point (the app-crash fault sets it). */
  dieBudget: number;
  backgroundErrors: number;
  readonly samples: string[];
}

interface Lane extends WorkloadLane {
  readonly def: StrategyDefinition;
  readonly state: LaneState;
}

/** Runs the lab; resolves to its results (also when stopped early). */
export async function runLab(options: LabOptions): Promise<LabResult> {
  const horizonsMs = options.horizonsMs ?? [1000, 10_000];
  const names = options.strategies.map((s) => s.name);
  const env = await openLabEnv({
    mysqlUrl: options.mysqlUrl, strategies: [...names, BASELINE], keys: options.keys,
    replicaDelaySeconds: options.faults.has('replica-reads') ? options.replicaDelaySeconds : undefined,
    writers: options.writers * names.length + 1, readers: options.readers * names.length, say: options.say,
  });
  const started: LabStrategy[] = [];
  try {
    const appRedis = env.appRedis();
    await whenReady(appRedis);
    let t0 = performance.now();
    const now = (): number => performance.now() - t0;
    const checks = new CheckQueue(horizonsMs);
    let replicaReads = false;
    const runStop = new AbortController();
    const lanes: Lane[] = [];
    for (const def of options.strategies) {
      const tally = new StrategyTally(horizonsMs);
      const book = new TruthBook();
      const state: LaneState = { dieBudget: 0, backgroundErrors: 0, samples: [] };
      const sample = (message: string): void => {
        if (state.samples.length < 3 && !state.samples.includes(message)) state.samples.push(message);
      };
      const ctx: StrategyContext = {
        name: def.name, keyPrefix: `${env.database}:${def.name}:`, redis: appRedis, newRedis: () => env.appRedis(),
        writePool: env.writePool, databaseUrl: env.databaseUrl, database: env.database,
        events: env.events, entryTtlMs: options.entryTtlMs ?? 600_000,
        load: async (id) => {
          tally.dbReads += 1;
          const loaded = await loadItem(replicaReads && env.replica ? env.replica.pool : env.readPool, def.name, id);
          const pause = Math.random() * options.fillDelayMs;
          if (pause > 0) await sleep(pause);
          return loaded;
        },
        committed: (id, version, name) => {
          const at = now();
          book.committed(id, version, at, name);
          checks.written(def.name, id, version, at);
        },
        diesHere: () => {
          if (state.dieBudget <= 0) return false;
          state.dieBudget -= 1;
          tally.diedWrites += 1;
          return true;
        },
        onBackgroundError: (err) => {
          state.backgroundErrors += 1;
          sample(`background: ${errorMessage(err)}`);
        },
      };
      const strategy = await def.create(ctx);
      started.push(strategy);
      lanes.push({ def, tally, book, state, strategy, sample });
    }

    const plainCommitMs: number[] = [];
    const workloadStop = new AbortController();
    const onAbort = (): void => workloadStop.abort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (options.signal.aborted) workloadStop.abort();
    t0 = performance.now();
    const timer = setTimeout(() => workloadStop.abort(), options.durationMs);
    const faults = startFaults(defaultFaultSchedule(options.durationMs, options.faults), {
      env, strategies: started,
      armCrash: (writes) => lanes.forEach((l) => (l.state.dieBudget = writes)),
      setReplicaReads: (on) => void (replicaReads = on),
      warn: options.warn,
    }, now);
    let phase: LabProgress['phase'] = 'running';
    const progress = setInterval(() => options.onProgress?.({
      phase, elapsedMs: now(), durationMs: options.durationMs, activeFaults: faults.active(), pendingChecks: checks.pending(),
      strategies: lanes.map((l) => ({
        name: l.def.name, writes: l.tally.writes, reads: l.tally.reads, staleReads: l.tally.staleAgesMs.length,
        inconsistent: [...l.tally.checks.values()].reduce((n, c) => n + c.inconsistent, 0),
      })),
    }), 250);
    const auditing = runAuditor(env.auditRedis, lanes, checks, now, runStop.signal);
    try {
      await Promise.all([
        runWorkload({
          lanes, writers: options.writers, readers: options.readers,
          skew: { keys: options.keys, hotKeys: options.hotKeys, hotShare: options.hotShare },
          writePauseMs: options.writePauseMs, readPauseMs: options.readPauseMs, stop: workloadStop.signal, now,
        }),
        baselineWriter(env, options, plainCommitMs, workloadStop.signal, now),
      ]);
      const elapsedMs = now();
      clearTimeout(timer);
      phase = 'settling';
      await faults.finish();
      const settleDeadline = performance.now() + (options.settleTimeoutMs ?? 30_000);
      const settled = new Map<string, boolean>();
      for (const lane of lanes) {
        let done = false;
        while (!(done = await lane.strategy.settled(lane.book.latestAll())) && performance.now() < settleDeadline) await sleep(50);
        settled.set(lane.def.name, done);
      }
      while (checks.pending() > 0 && !options.signal.aborted) await sleep(50);
      runStop.abort();
      await auditing;
      const database = await allRows(env.writePool);
      const ids = Array.from({ length: options.keys }, (_, i) => i + 1);
      const plainCommit = { p50: percentile(plainCommitMs, 50), p99: percentile(plainCommitMs, 99) };
      const results = [];
      for (const lane of lanes) {
        const keys = await lane.strategy.peek(ids, env.auditRedis);
        results.push(summarizeStrategy(lane.def, lane.tally, lane.book, {
          database: database.get(lane.def.name) ?? new Map(), keys, settled: settled.get(lane.def.name) ?? false,
          backgroundErrors: lane.state.backgroundErrors, errorSamples: lane.state.samples,
        }, elapsedMs, plainCommit));
      }
      return {
        startedAt: new Date(Date.now() - now()).toISOString(), durationMs: options.durationMs, elapsedMs: Math.round(elapsedMs),
        interrupted: options.signal.aborted,
        settings: {
          keys: options.keys, writers: options.writers, readers: options.readers, fillDelayMs: options.fillDelayMs,
          hotKeys: options.hotKeys, hotShare: options.hotShare, replicaDelaySeconds: env.replica?.delaySeconds ?? null,
        },
        faults: faults.applied(),
        plainCommitMs: { p50: Math.round(plainCommit.p50 * 100) / 100, p99: Math.round(plainCommit.p99 * 100) / 100 },
        strategies: results,
      };
    } finally {
      clearTimeout(timer);
      clearInterval(progress);
      options.signal.removeEventListener('abort', onAbort);
      runStop.abort();
      await faults.finish();
      await auditing;
    }
  } finally {
    for (const strategy of started) await strategy.stop().catch(() => {});
    await env.close();
  }
}

/** Rows of the plain-commit baseline writer (no cache): the reference of the added latency. */
const BASELINE = 'baseline';

/** Commits plain UPDATEs beside the strategies, under the same load, timing each. */
async function baselineWriter(env: LabEnv, options: LabOptions, out: number[], stop: AbortSignal, now: () => number): Promise<void> {
  while (!stop.aborted) {
    const id = pickKey({ keys: options.keys, hotKeys: options.hotKeys, hotShare: options.hotShare }, Math.random);
    const startedAt = now();
    try {
      await updateItem(env.writePool, BASELINE, nextItemValue(id));
      out.push(now() - startedAt);
    } catch {
      // The baseline only times successful commits.
    }
    await sleep(options.writePauseMs * (0.5 + Math.random()), stop);
  }
}
