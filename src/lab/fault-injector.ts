/**
 * Carries out the fault schedule on the running lab: timers from the workload's start, each
 * fault's start and end applied to every strategy at once. `finish()` ends whatever is still on
 * (unblocks Redis, restarts killed workers) so that the settle phase starts from a healthy system.
 */
import { errorMessage } from '../errors.js';
import { WRITES_DYING_PER_CRASH, type FaultEvent, type FaultKind } from './faults.js';
import type { LabEnv } from './lab-env.js';
import type { LabStrategy } from './strategy.js';

/** The injector's view of the lab. */
export interface FaultTargets {
  readonly env: Pick<LabEnv, 'proxy' | 'restartRedis'>;
  readonly strategies: readonly LabStrategy[];
  /** Arms the crash point: the next `writes` writes of every strategy die after their commit. */
  readonly armCrash: (writes: number) => void;
  /** Turns replica reads on or off. */
  readonly setReplicaReads: (on: boolean) => void;
  /** Told when a fault could not be applied (the run goes on). */
  readonly warn: (text: string) => void;
}

/** A started schedule. */
export interface FaultInjector {
  /** Faults on right now, for the progress display. */
  active(): FaultKind[];
  /** When each fault actually started and ended (a restart ends when Redis answers again). */
  applied(): FaultEvent[];
  /** Cancels what has not started and ends what is on. */
  finish(): Promise<void>;
}

/** Starts the timers of `schedule`; `now()` is the lab clock. */
export function startFaults(schedule: readonly FaultEvent[], targets: FaultTargets, now: () => number): FaultInjector {
  const timers = new Set<NodeJS.Timeout>();
  const on = new Set<FaultKind>();
  const applied: FaultEvent[] = [];
  const ends: (() => Promise<void>)[] = [];
  let chain: Promise<void> = Promise.resolve();
  const later = (atMs: number, fn: () => Promise<void>): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      chain = chain.then(fn).catch((err: unknown) => targets.warn(`fault: ${errorMessage(err)}`));
    }, Math.max(0, atMs - now()));
    timers.add(timer);
  };
  const killed: { restart(): Promise<void> }[] = [];

  const starts: Record<FaultKind, (event: FaultEvent) => Promise<() => Promise<void>>> = {
    'app-crash': async () => {
      targets.armCrash(WRITES_DYING_PER_CRASH);
      for (const s of targets.strategies) s.crash();
      return async () => {};
    },
    'redis-errors': async () => {
      targets.env.proxy.block();
      return async () => targets.env.proxy.unblock();
    },
    'redis-restart': async () => {
      await targets.env.restartRedis();
      return async () => {};
    },
    'worker-crash': async () => {
      for (const worker of targets.strategies.flatMap((s) => s.workers)) {
        await worker.kill();
        killed.push(worker);
      }
      return async () => {
        for (const worker of killed.splice(0)) await worker.restart();
      };
    },
    'replica-reads': async () => {
      targets.setReplicaReads(true);
      return async () => targets.setReplicaReads(false);
    },
  };

  for (const event of schedule) {
    let end: (() => Promise<void>) | undefined;
    let startedAt = 0;
    const stopFault = async (): Promise<void> => {
      if (!end) return;
      const fn = end;
      end = undefined;
      await fn();
      on.delete(event.kind);
      applied.push({ kind: event.kind, startMs: Math.round(startedAt), endMs: Math.round(Math.max(now(), startedAt)) });
    };
    later(event.startMs, async () => {
      startedAt = now();
      on.add(event.kind);
      end = await starts[event.kind](event);
      if (event.endMs <= event.startMs) await stopFault();
    });
    if (event.endMs > event.startMs) later(event.endMs, stopFault);
    ends.push(stopFault);
  }

  return {
    active: () => [...on],
    applied: () => [...applied].sort((a, b) => a.startMs - b.startMs),
    async finish() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await chain;
      for (const end of ends) await end().catch((err: unknown) => targets.warn(`fault end: ${errorMessage(err)}`));
    },
  };
}
