/** The auditor's outputs besides metrics: the periodic summary line and the `--report` JSON file. */
import { writeFile } from 'node:fs/promises';
import type { Logger } from '../ops/logger.js';
import type { Auditor } from './auditor.js';

/** Logs one summary line: per delay, checks and inconsistencies in the window and their nines. */
export function logSummary(auditor: Auditor, logger: Logger): void {
  const s = auditor.summary();
  logger.info({
    delays: s.delays.map((d) => ({
      delay: d.delay, checks: d.window.checks, inconsistent: d.window.inconsistent,
      nines: d.window.nines === undefined ? null : Number(d.window.nines.toFixed(2)), late: d.late,
    })),
    events: s.events, inconsistentKeys: s.inconsistentKeys, repaired: s.repaired, scheduled: s.scheduled,
    lagS: s.lagMs === undefined ? null : Math.round(s.lagMs / 100) / 10,
  }, 'audit summary');
}

/** The report: when, the figures since start and in the window, and the last inconsistent keys. */
export function auditReport(auditor: Auditor, startedAtMs: number, nowMs = Date.now()): unknown {
  const s = auditor.summary();
  return {
    startedAt: new Date(startedAtMs).toISOString(),
    stoppedAt: new Date(nowMs).toISOString(),
    events: s.events,
    inconsistentKeys: s.inconsistentKeys,
    repaired: s.repaired,
    maxScheduled: s.maxScheduled,
    delays: s.delays,
    inconsistent: auditor.recentInconsistencies(),
  };
}

/** Writes {@link auditReport} to `file` as JSON. */
export async function writeReport(file: string, auditor: Auditor, startedAtMs: number): Promise<void> {
  await writeFile(file, `${JSON.stringify(auditReport(auditor, startedAtMs), null, 2)}\n`);
}
