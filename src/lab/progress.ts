/**
 * The progress display while the lab runs: on a terminal, a block redrawn in place (log-update)
 * with the phase, elapsed time, faults on and per-strategy counters; elsewhere (a pipe, CI), one
 * line every 5 s.
 */
import type { Writable } from 'node:stream';
import { createLogUpdate } from 'log-update';
import type { LabProgress } from './run-lab.js';

const int = (n: number): string => n.toLocaleString('en-US');

/** The progress block for `p`. Pure. */
export function progressBlock(p: LabProgress): string {
  const seconds = (ms: number): string => `${Math.floor(ms / 1000)}s`;
  const head = p.phase === 'running'
    ? `[${seconds(p.elapsedMs)}/${seconds(p.durationMs)}] running${p.activeFaults.length ? `, fault on: ${p.activeFaults.join(', ')}` : ''}`
    : `[${seconds(p.elapsedMs)}] settling: waiting for relays, queues and flushes; ${int(p.pendingChecks)} auditor checks still due`;
  const width = Math.max(...p.strategies.map((s) => s.name.length));
  const rows = p.strategies.map((s) =>
    `  ${s.name.padEnd(width)}  writes ${int(s.writes).padStart(6)}  reads ${int(s.reads).padStart(7)}  stale reads ${int(s.staleReads).padStart(6)}  bad checks ${int(s.inconsistent).padStart(5)}`);
  return [head, ...rows].join('\n');
}

/** A progress sink for `stream`: redraws in place on a TTY, prints every 5 s otherwise. */
export function progressDisplay(stream: Writable & { isTTY?: boolean }): { update(p: LabProgress): void; done(): void } {
  if (stream.isTTY) {
    const draw = createLogUpdate(stream as NodeJS.WriteStream);
    return { update: (p) => draw(progressBlock(p)), done: () => draw.done() };
  }
  let lastSecond = -5;
  let lastPhase: LabProgress['phase'] | undefined;
  return {
    update(p) {
      const second = Math.floor(p.elapsedMs / 1000);
      if (second - lastSecond < 5 && p.phase === lastPhase) return;
      lastSecond = second;
      lastPhase = p.phase;
      const totals = p.strategies.reduce((t, s) => ({ writes: t.writes + s.writes, reads: t.reads + s.reads }), { writes: 0, reads: 0 });
      const faults = p.activeFaults.length ? `, fault on: ${p.activeFaults.join(', ')}` : '';
      stream.write(`[${String(second).padStart(3)}s] ${p.phase}: ${int(totals.writes)} writes, ${int(totals.reads)} reads${faults}${p.phase === 'settling' ? `, ${int(p.pendingChecks)} checks due` : ''}\n`);
    },
    done: () => {},
  };
}
