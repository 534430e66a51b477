/** The lab's pure parts: the auditor's classification, bookkeeping, schedule, options, output. No servers. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { CheckQueue, classifyCheck, ninesOf } from '../../src/lab/audit-check.js';
import { defaultFaultSchedule, FAULT_KINDS, parseFaultKinds } from '../../src/lab/faults.js';
import { renderReport, runReading } from '../../src/lab/html-report.js';
import { parseLabConfig } from '../../src/lab/lab-config.js';
import { percentile, StrategyTally, TruthBook } from '../../src/lab/measure.js';
import { staleForeverKeys } from '../../src/lab/results.js';
import { DEFAULT_TUNABLES, labStrategies, STRATEGY_NAMES } from '../../src/lab/strategies/index.js';
import { resultTable, summaryText } from '../../src/lab/table.js';
import { progressBlock } from '../../src/lab/progress.js';
import { pickKey } from '../../src/lab/workload.js';
import { sampleResult } from './sample-result.js';

describe('the auditor\'s classification', () => {
  it('is inconsistent only for an entry or known-absent below the written version', () => {
    expect(classifyCheck({ state: 'entry', version: 4n }, 5n)).toBe('inconsistent');
    expect(classifyCheck({ state: 'absent', version: 4n }, 5n)).toBe('inconsistent');
    expect(classifyCheck({ state: 'entry', version: 5n }, 5n)).toBe('consistent');
    expect(classifyCheck({ state: 'entry', version: 6n }, 5n)).toBe('consistent');
    expect(classifyCheck({ state: 'tombstone', version: 4n }, 5n)).toBe('consistent');
    expect(classifyCheck({ state: 'lease', version: 0n }, 5n)).toBe('consistent');
    expect(classifyCheck({ state: 'missing' }, 5n)).toBe('consistent');
  });

  it('gives nines, and a lower bound when nothing failed', () => {
    expect(ninesOf(1000, 1)).toEqual({ nines: 3, lowerBound: false });
    expect(ninesOf(1000, 0)).toEqual({ nines: 3, lowerBound: true });
    expect(ninesOf(0, 0)).toEqual({ nines: 0, lowerBound: true });
  });

  it('hands out checks when due, per horizon, in order', () => {
    const queue = new CheckQueue([1000, 10_000]);
    queue.written('a', 1, 2n, 100);
    queue.written('a', 2, 3n, 200);
    expect(queue.pending()).toBe(4);
    expect(queue.takeDue(1099)).toEqual([]);
    expect(queue.takeDue(1150).map((c) => [c.id, c.horizonMs])).toEqual([[1, 1000]]);
    expect(queue.takeDue(20_000).map((c) => [c.id, c.horizonMs])).toEqual([[2, 1000], [1, 10_000], [2, 10_000]]);
    expect(queue.pending()).toBe(0);
  });
});

describe('ground truth and tallies', () => {
  it('measures a stale read\'s age from the commit of the first version it missed', () => {
    const book = new TruthBook();
    book.committed(1, 2n, 100, 'b');
    book.committed(1, 3n, 150, 'c');
    const tally = new StrategyTally([1000]);
    tally.read(book, 1, 3n, true, 200, 3n);
    tally.read(book, 1, 1n, true, 1400, 3n);
    tally.read(book, 1, 2n, false, 1500, 3n);
    expect(tally.reads).toBe(3);
    expect(tally.hits).toBe(2);
    expect(tally.staleAgesMs).toEqual([1300, 1350]);
    expect(tally.timeline).toEqual([{ reads: 1, staleReads: 0, maxStaleAgeMs: 0 }, { reads: 2, staleReads: 2, maxStaleAgeMs: 1350 }]);
  });

  it('counts lost writes by value: the last acknowledged write of an item missing from the database', () => {
    const book = new TruthBook();
    book.committed(1, 2n, 0, 'a2');
    book.committed(2, 2n, 0, 'b2');
    // After a crash the counter restarts and reuses 2: the database holding version 2 proves nothing.
    book.committed(3, 2n, 0, 'c2-lost');
    book.committed(3, 2n, 0, 'c2-again');
    expect(book.lostWrites(new Map([[1, 'a2'], [2, 'b1'], [3, 'c2-again']]))).toBe(1);
  });

  it('calls a key stale for good below the database\'s or the acknowledged version', () => {
    const book = new TruthBook();
    book.committed(2, 5n, 0, 'x');
    const keys = new Map([[1, { state: 'entry', version: 3n }], [2, { state: 'entry', version: 4n }], [3, { state: 'tombstone', version: 1n }], [4, { state: 'missing' }]] as const);
    const database = new Map([[1, { version: 4n, name: '' }], [2, { version: 4n, name: '' }], [3, { version: 9n, name: '' }]]);
    expect(staleForeverKeys(book, { database, keys: new Map(keys) })).toEqual([1, 2]);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 50)).toBe(0);
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 99)).toBe(5);
  });

  it('sends hotShare of the picks to the hot keys', () => {
    let seed = 1;
    const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const picks = Array.from({ length: 10_000 }, () => pickKey({ keys: 50, hotKeys: 5, hotShare: 0.8 }, random));
    const hot = picks.filter((id) => id <= 5).length / picks.length;
    expect(hot).toBeGreaterThan(0.78);
    expect(hot).toBeLessThan(0.84);
    expect(Math.min(...picks)).toBe(1);
    expect(Math.max(...picks)).toBe(50);
  });
});

describe('fault schedule', () => {
  it('scales to the duration and keeps only the asked-for kinds', () => {
    const all = defaultFaultSchedule(40_000, new Set(FAULT_KINDS));
    expect(all.map((f) => [f.kind, f.startMs, f.endMs])).toEqual([
      ['app-crash', 4800, 4800], ['redis-errors', 8800, 10_800], ['redis-restart', 14_400, 14_400],
      ['worker-crash', 18_400, 22_400], ['app-crash', 24_800, 24_800], ['replica-reads', 28_000, 36_000],
    ]);
    expect(defaultFaultSchedule(40_000, new Set(['redis-restart'])).map((f) => f.kind)).toEqual(['redis-restart']);
    expect(parseFaultKinds('none').kinds.size).toBe(0);
    expect(parseFaultKinds('app-crash, nope')).toEqual({ kinds: new Set(['app-crash']), unknown: ['nope'] });
  });
});

describe('options and strategies', () => {
  it('lists every strategy once, ours (without and with the L1 tier) last', () => {
    const defs = labStrategies({ doubleDeleteSleepMs: 100, ttlOnlyMs: 1000, writeBehindFlushMs: 100, lockTtlMs: 100, mqRetryMs: 10 });
    expect(defs.map((d) => d.name)).toEqual(STRATEGY_NAMES);
    expect(new Set(STRATEGY_NAMES).size).toBe(13);
    expect(STRATEGY_NAMES.slice(-2)).toEqual(['ours', 'ours+l1']);
    expect(defs.filter((d) => d.ours).map((d) => d.name)).toEqual(['ours', 'ours+l1']);
  });

  it('has defaults, and reports every bad option at once', () => {
    const config = parseLabConfig({}, []);
    expect(config).toMatchObject(DEFAULT_TUNABLES);
    expect(config).toMatchObject({ duration: 30_000, writers: 2, readers: 4, keys: 50, replica: false, strategies: STRATEGY_NAMES });
    expect([...config.faults]).toEqual(FAULT_KINDS);
    expect(parseLabConfig({ LAB_STRATEGIES: 'ours,cache-aside' }, ['--faults', 'none', '--replica']))
      .toMatchObject({ strategies: ['ours', 'cache-aside'], replica: true, faults: new Set() });
    let error: unknown;
    try {
      parseLabConfig({}, ['--strategies', 'ours,magic', '--faults', 'meteor', '--writers', '0']);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.setting).sort()).toEqual(['--faults', '--strategies', '--writers']);
    expect(() => parseLabConfig({}, ['--hot-keys', '60', '--keys', '10'])).toThrow(/--hot-keys: must not exceed --keys \(10\)/);
    expect(() => parseLabConfig({}, ['--duration', '1s', '--writers', '0'])).toThrow(/--duration[\s\S]*--writers|--writers[\s\S]*--duration/);
    expect(() => parseLabConfig({}, ['--strategies', 'magic', '--keys', '1'])).toThrow(/--strategies[\s\S]*--keys|--keys[\s\S]*--strategies/);
  });
});

describe('output', () => {
  it('prints one row per strategy with the figures the issue names', () => {
    const result = sampleResult();
    const table = resultTable(result);
    const lines = table.split('\n');
    expect(lines).toHaveLength(result.strategies.length + 1);
    expect(lines[0]).toMatch(/^strategy\s+stale keys\s+bad checks 1s\/10s\s+nines 1s\s+stale reads/);
    expect(table).toMatch(/cache-aside\s+3\s+40 \/ 12\s+1\.4\s+250\s+900 ms \/ 4\.2 s\s+-/);
    expect(table).toMatch(/write-behind\s+0\s+0 \/ 0\s+≥3\.0\s+10.*\s7\s/);
    expect(table).toMatch(/ours \*\s+0\s+5 \/ 0\s+2\.3/);
    expect(summaryText(result)).toContain('faults: app-crash at 4.8 s, redis-errors at 8.8 s for 2.0 s');
  });

  it('writes a self-contained report with the data embedded safely and a reading per strategy', () => {
    const result = sampleResult();
    const html = renderReport(result, '/* chart library */');
    expect(html).toContain('/* chart library */');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toContain('http://');
    expect(html).toContain(runReading(result.strategies[0]!).replace(/'/g, '&#39;'));
    // A strategy text with markup cannot break out of the page.
    const hostile = renderReport({ ...result, strategies: [{ ...result.strategies[0]!, failureMode: '</script><img src=x>' }] }, '');
    expect(hostile).not.toContain('</script><img');
    expect(hostile).toContain('&lt;/script&gt;&lt;img src=x&gt;');
  });
});

describe('progress', () => {
  it('shows the phase, the faults on and each strategy\'s counters', () => {
    const block = progressBlock({
      phase: 'running', elapsedMs: 9100, durationMs: 30_000, activeFaults: ['redis-errors'], pendingChecks: 12,
      strategies: [{ name: 'cache-aside', writes: 1200, reads: 15_000, staleReads: 40, inconsistent: 3 }, { name: 'ours', writes: 1190, reads: 14_000, staleReads: 9, inconsistent: 1 }],
    });
    expect(block.split('\n')[0]).toBe('[9s/30s] running, fault on: redis-errors');
    expect(block).toMatch(/cache-aside\s+writes\s+1,200\s+reads\s+15,000\s+stale reads\s+40\s+bad checks\s+3/);
    expect(progressBlock({ phase: 'settling', elapsedMs: 31_000, durationMs: 30_000, activeFaults: [], pendingChecks: 12, strategies: [] }))
      .toContain('settling: waiting for relays, queues and flushes; 12 auditor checks still due');
  });
});
