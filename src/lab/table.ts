/** The lab's terminal output: the final table and the lines under it. Pure. */
import { FAULT_DESCRIPTIONS } from './faults.js';
import { checkAt, type LabResult, type StrategyResult } from './results.js';

const int = (n: number): string => n.toLocaleString('en-US');

/** Milliseconds as `850 ms` or `12.3 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Nines as text: `≥3.9` when no check failed (a lower bound), `-` without checks. */
export function formatNines(result: StrategyResult, horizonMs: number): string {
  const c = checkAt(result, horizonMs);
  if (!c || c.checks === 0) return '-';
  return `${c.ninesLowerBound ? '≥' : ''}${c.nines.toFixed(1)}`;
}

function bad(result: StrategyResult, horizonMs: number): string {
  const c = checkAt(result, horizonMs);
  return c ? int(c.inconsistent) : '-';
}

/** The columns of the table, in order: header and cell. */
const COLUMNS: readonly (readonly [string, (r: StrategyResult) => string])[] = [
  ['strategy', (r) => (r.ours ? `${r.name} *` : r.name)],
  ['stale keys', (r) => int(r.staleForever)],
  ['bad checks 1s/10s', (r) => `${bad(r, 1000)} / ${bad(r, 10_000)}`],
  ['nines 1s', (r) => formatNines(r, 1000)],
  ['stale reads', (r) => int(r.staleReads)],
  ['stale age p99/max', (r) => (r.staleReads === 0 ? '-' : `${formatMs(r.staleAgeMs.p99)} / ${formatMs(r.staleAgeMs.max)}`)],
  ['lost writes', (r) => (r.lostWrites === null ? '-' : int(r.lostWrites))],
  ['+write p99', (r) => `${r.addedLatencyMs.p99 >= 0 ? '+' : ''}${r.addedLatencyMs.p99.toFixed(1)} ms`],
  ['hits', (r) => `${Math.round(r.hitRate * 100)}%`],
  ['db reads/s', (r) => int(Math.round(r.dbReadsPerSecond))],
];

/** The table of every strategy, one row each, columns padded. */
export function resultTable(result: LabResult): string {
  const rows = [COLUMNS.map(([h]) => h), ...result.strategies.map((r) => COLUMNS.map(([, cell]) => cell(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ').trimEnd()).join('\n');
}

/** The table with a title, the fault schedule and how to read the columns. */
export function summaryText(result: LabResult): string {
  const writes = result.strategies.reduce((n, r) => n + r.writes, 0);
  const faults = result.faults.length === 0
    ? 'none'
    : result.faults.map((f) => `${f.kind} at ${formatMs(f.startMs)}${f.endMs - f.startMs >= 500 ? ` for ${formatMs(f.endMs - f.startMs)}` : ''}`).join(', ');
  const unsettled = result.strategies.filter((r) => !r.settled).map((r) => r.name);
  const lines = [
    `Lab: ${result.strategies.length} strategies, ${formatMs(result.elapsedMs)}${result.interrupted ? ' (stopped early)' : ''}, ${int(writes)} writes; faults: ${faults}.`,
    '',
    resultTable(result),
    '',
    'stale keys: still older than the database once everything settled (relays caught up, queues drained), by ground truth.',
    'bad checks: the auditor\'s measure, each write\'s key checked 1 s and 10 s after its commit; bad = it held an older version.',
    'stale reads: a read returned a version older than one committed before it began. * = this project.',
  ];
  if (unsettled.length > 0) lines.push(`WARNING: ${unsettled.join(', ')} had work pending at the settle deadline; their stale keys may include writes still on their way.`);
  return `${lines.join('\n')}\n`;
}

/** The fault kinds and what they do, for usage text. */
export function faultLegend(): string {
  return Object.entries(FAULT_DESCRIPTIONS).map(([kind, text]) => `  ${kind.padEnd(14)} ${text}`).join('\n');
}
