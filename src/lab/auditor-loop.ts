/**
 * The lab's auditor: runs each write's checks when their horizon comes (DESIGN.md §7), reading
 * the keys with its own Redis client, one MGET per strategy per round, and counts them on the
 * strategy's tally. A round that cannot read Redis (restarting) keeps its checks for the next.
 */
import type { Redis } from 'ioredis';
import { sleep } from '../retry.js';
import { classifyCheck, type CheckQueue } from './audit-check.js';
import type { StrategyTally } from './measure.js';
import type { LabStrategy, StrategyDefinition } from './strategy.js';

/** A strategy as the auditor needs it. */
export interface AuditedLane {
  readonly def: Pick<StrategyDefinition, 'name'>;
  readonly strategy: Pick<LabStrategy, 'peek'>;
  readonly tally: StrategyTally;
}

/** Every 100 ms until `stop`, runs the due checks of `queue`. */
export async function runAuditor(redis: Redis, lanes: readonly AuditedLane[], queue: CheckQueue, now: () => number, stop: AbortSignal): Promise<void> {
  const byName = new Map(lanes.map((l) => [l.def.name, l]));
  let carried: ReturnType<CheckQueue['takeDue']> = [];
  while (!stop.aborted) {
    const due = [...carried, ...queue.takeDue(now())];
    carried = [];
    const groups = new Map<string, typeof due>();
    for (const check of due) {
      let group = groups.get(check.strategy);
      if (!group) groups.set(check.strategy, (group = []));
      group.push(check);
    }
    for (const [name, group] of groups) {
      const lane = byName.get(name);
      if (!lane) continue;
      try {
        const states = await lane.strategy.peek([...new Set(group.map((c) => c.id))], redis);
        for (const check of group) {
          const state = states.get(check.id);
          if (state) lane.tally.check(check.horizonMs, check.id, classifyCheck(state, check.version));
        }
      } catch {
        // Redis restarting: the auditor reads these keys again on its next round.
        carried.push(...group);
      }
    }
    await sleep(100, stop);
  }
}
