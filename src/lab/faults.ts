/**
 * The lab's fault schedule, pure: which fault starts when and for how long, scaled to the run's
 * duration, identical for every strategy. The injector (fault-injector.ts) carries it out.
 */

/** The faults the lab can inject. */
export type FaultKind = 'app-crash' | 'redis-errors' | 'redis-restart' | 'worker-crash' | 'replica-reads';

/** Every fault kind, in schedule order. */
export const FAULT_KINDS: readonly FaultKind[] = ['app-crash', 'redis-errors', 'redis-restart', 'worker-crash', 'replica-reads'];

/** What each fault does, for the usage text and the report. */
export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  'app-crash': 'the app dies after a commit and before its cache step (the next writes of each strategy); what it held in memory is lost',
  'redis-errors': 'every Redis call of the app, its relays and consumers fails (connections refused) for a window',
  'redis-restart': 'Redis is restarted (no persistence: it comes back empty)',
  'worker-crash': 'relays, the queue consumer and the binlog tail are killed, and restarted at the end of the window',
  'replica-reads': 'readers read a lagging MariaDB replica (MASTER_DELAY) instead of the primary (with --replica)',
};

/** One scheduled fault. Times in ms from the start of the workload. */
export interface FaultEvent {
  readonly kind: FaultKind;
  readonly startMs: number;
  /** Equal to startMs for instantaneous faults (a crash); the injector may extend a restart's end. */
  readonly endMs: number;
}

/** Writes per strategy that die at the crash point in one app-crash fault. */
export const WRITES_DYING_PER_CRASH = 3;

/**
 * The default schedule over `durationMs`, for the `kinds` asked for: an app crash at 12 % and
 * 62 %, Redis errors at 22 % (2 s, at most 8 % of the run), a Redis restart at 36 %, the
 * background workers down at 46 % (4 s, at most 10 %), replica reads from 70 % to 90 %.
 */
export function defaultFaultSchedule(durationMs: number, kinds: ReadonlySet<FaultKind>): FaultEvent[] {
  const at = (fraction: number): number => Math.round(durationMs * fraction);
  const events: FaultEvent[] = [];
  const add = (kind: FaultKind, startMs: number, lengthMs = 0): void => {
    if (kinds.has(kind)) events.push({ kind, startMs, endMs: startMs + lengthMs });
  };
  add('app-crash', at(0.12));
  add('redis-errors', at(0.22), Math.min(2000, at(0.08)));
  add('redis-restart', at(0.36));
  add('worker-crash', at(0.46), Math.min(4000, at(0.1)));
  add('app-crash', at(0.62));
  add('replica-reads', at(0.7), at(0.2));
  return events.sort((a, b) => a.startMs - b.startMs);
}

/** Parses `--faults`: `all`, `none`, or a comma-separated list of kinds; unknown names are returned apart. */
export function parseFaultKinds(text: string): { kinds: Set<FaultKind>; unknown: string[] } {
  const words = text.split(',').map((w) => w.trim()).filter((w) => w !== '');
  if (words.length === 1 && words[0] === 'all') return { kinds: new Set(FAULT_KINDS), unknown: [] };
  if (words.length === 1 && words[0] === 'none') return { kinds: new Set(), unknown: [] };
  const kinds = new Set<FaultKind>();
  const unknown: string[] = [];
  for (const word of words) {
    if ((FAULT_KINDS as readonly string[]).includes(word)) kinds.add(word as FaultKind);
    else unknown.push(word);
  }
  return { kinds, unknown };
}
