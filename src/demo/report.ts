/** The demo's output: a progress line per second and the final summary of both caches. Pure. */
import { hitRate, type CacheCounters } from './stats.js';

/** A cache's line in the summary: its counters and what was left stale once the writes stopped. */
export interface CacheSummary extends CacheCounters {
  /** Keys whose cached version differs from the database's at the end. */
  readonly staleKeys: number;
}

/** What a demo run did. */
export interface DemoSummary {
  /** Wall time of the workload, ms. */
  readonly elapsedMs: number;
  /** Committed writes (each hit both caches: the same rows back both). */
  readonly writes: number;
  readonly keys: number;
  /** Guarded: outbox + embedded relay + version-guarded read-through. */
  readonly guarded: CacheSummary;
  /** Plain cache-aside: DEL after commit, GET / read the database / SET on miss. */
  readonly plain: CacheSummary;
  /**
   * What the relay did with the events: `changed` a key, found it `superseded` (a newer version
   * was already there: a fill after the write, or a later event of the same batch), `skipped`.
   */
  readonly relay: { readonly events: number; readonly changed: number; readonly superseded: number; readonly skipped: number };
  /** False when the relay had not applied every committed write by the drain deadline. */
  readonly drained: boolean;
  /** True when stopped by Ctrl-C (SIGINT) or SIGTERM before the planned duration. */
  readonly interrupted: boolean;
}

const int = (n: number): string => n.toLocaleString('en-US');
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** Milliseconds as `850 ms` or `12.3 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One progress line, e.g. `[  3s] writes 812 | guarded 5,120 reads, 91.0% hits, 2 stale | cache-aside ...`. */
export function progressLine(elapsedMs: number, writes: number, guarded: CacheCounters, plain: CacheCounters): string {
  const part = (label: string, c: CacheCounters): string => `${label} ${int(c.reads)} reads, ${pct(hitRate(c))} hits, ${int(c.staleReads)} stale`;
  const seconds = String(Math.round(elapsedMs / 1000)).padStart(3);
  return `[${seconds}s] writes ${int(writes)} | ${part('guarded', guarded)} | ${part('cache-aside', plain)}`;
}

/** The final summary: a two-column table and what the numbers mean. */
export function summaryText(summary: DemoSummary): string {
  const { guarded, plain } = summary;
  const stale = (c: CacheSummary): string => (c.staleReads === 0 ? '0' : `${int(c.staleReads)} (up to ${formatMs(c.oldestStaleMs)} late)`);
  const rows: [string, string, string][] = [
    ['', 'guarded (outbox + relay)', 'plain cache-aside'],
    ['writes', int(summary.writes), int(summary.writes)],
    ['reads', int(guarded.reads), int(plain.reads)],
    ['hit rate', pct(hitRate(guarded)), pct(hitRate(plain))],
    ['stale reads seen', stale(guarded), stale(plain)],
    ['fills refused by the guard', int(guarded.refusedFills), 'n/a (no guard)'],
    ['stale keys at the end', `${int(guarded.staleKeys)} of ${int(summary.keys)}`, `${int(plain.staleKeys)} of ${int(summary.keys)}`],
  ];
  const { relay } = summary;
  const skipped = relay.skipped > 0 ? `, ${int(relay.skipped)} skipped (see the errors above)` : '';
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const lines = [
    `Summary after ${formatMs(summary.elapsedMs)}${summary.interrupted ? ' (stopped early)' : ''}:`,
    ...rows.map(([a, b, c]) => `  ${a.padEnd(w0)}   ${b.padEnd(w1)}   ${c}`),
    `  relay: ${int(relay.events)} events applied to Redis: ${int(relay.changed)} stored a tombstone, ${int(relay.superseded)} found the key already at that version or newer${skipped}.`,
    '',
    'A stale read returned a version older than one whose commit had returned before the read began.',
    'Guarded stale reads happen between a commit and its invalidation reaching Redis (the relay\'s lag),',
    'or when a read shares a database read begun just before the write (single-flight); they end by',
    'themselves. A stale key still holds an outdated version after every write was relayed: that is',
    'cache-aside\'s race (a slow reader fills what it read before a concurrent write and its DEL), and it',
    'lasts until the key\'s next write or TTL. The version guard refuses those fills (counted above).',
  ];
  if (!summary.drained) {
    lines.push('', 'WARNING: the relay had not applied every committed write by the deadline; the guarded stale keys above may include writes still on their way.');
  }
  return `${lines.join('\n')}\n`;
}
