/** The auditor's pure pieces: the check over every stored state, nines, the timing wheel, the window, offset progress. */
import { describe, expect, it } from 'vitest';
import { encodeStoredValue } from '../../src/cache/stored-value.js';
import { classify, nines } from '../../src/audit/check.js';
import { PartitionProgress } from '../../src/audit/offsets.js';
import { CheckSchedule } from '../../src/audit/schedule.js';
import { SlidingWindow } from '../../src/audit/window.js';

/** A check for the schedule tests: a name and its due time. */
const c = (name: string | number, dueMs: number) => ({ name, dueMs, late: false });
const raw = (text: string): Buffer => Buffer.from(text, 'latin1');
const header = (text: string): Buffer => raw(text).subarray(0, 21);

describe('classify', () => {
  const cases: [string, string | null, 'consistent' | 'inconsistent', string][] = [
    ['missing key', null, 'consistent', 'missing'],
    ['empty read (GETRANGE of a missing key)', '', 'consistent', 'missing'],
    ['entry at V', 'E5:data', 'consistent', 'entry'],
    ['entry above V', 'E6:data', 'consistent', 'entry'],
    ['entry below V', 'E4:data', 'inconsistent', 'entry'],
    ['known absent below V', 'A4:', 'inconsistent', 'absent'],
    ['known absent at V', 'A5:', 'consistent', 'absent'],
    ['tombstone below V (v1 form)', 'T4:', 'consistent', 'tombstone'],
    ['tombstone with stale bytes (v2 form)', 'T7:1700000000000:3:old bytes', 'consistent', 'tombstone'],
    ['lease with floor 0', `L0:${'a'.repeat(32)}`, 'consistent', 'lease'],
    ['lease with floor below V and stale bytes', `L3:${'b'.repeat(32)}:1700000000000:2:old`, 'consistent', 'lease'],
    ['a value not in the guard layout', 'hello world', 'consistent', 'foreign'],
  ];
  it.each(cases)('%s', (_name, value, result, found) => {
    const outcome = classify(5n, value === null ? null : header(value), 1000, 1500);
    expect(outcome).toMatchObject({ result, found, lagMs: 500 });
  });

  it('reads the largest version from a 21-byte header and never reports a negative lag', () => {
    const big = encodeStoredValue({ state: 'entry', version: 2n ** 63n - 2n, data: Buffer.from('x'.repeat(100)) }).subarray(0, 21);
    expect(classify(2n ** 63n - 1n, big, 2000, 1000)).toEqual({ result: 'inconsistent', found: 'entry', foundVersion: 2n ** 63n - 2n, lagMs: 0 });
  });
});

describe('nines', () => {
  it('is -log10 of the inconsistent fraction, capped at log10(checks) when nothing was inconsistent', () => {
    expect(nines(999, 1000)).toBeCloseTo(3);
    expect(nines(99_990, 100_000)).toBeCloseTo(4);
    expect(nines(1000, 1000)).toBeCloseTo(3);
    expect(nines(0, 10)).toBe(0);
    expect(nines(0, 0)).toBeUndefined();
  });
});

describe('CheckSchedule', () => {
  it('never gives a check before its due time, and at most one tick after', () => {
    const schedule = new CheckSchedule<ReturnType<typeof c>>({ horizonMs: 1000, tickMs: 10, lateAfterMs: 5000 });
    expect(schedule.add(c('a', 1_000_250), 1_000_000)).toBe('scheduled');
    expect(schedule.add(c('b', 1_000_100), 1_000_000)).toBe('scheduled');
    expect(schedule.take(1_000_099, 10)).toEqual([]);
    expect(schedule.take(1_000_105, 10)).toEqual([]);
    expect(schedule.take(1_000_110, 10).map((x) => x.name)).toEqual(['b']);
    expect(schedule.take(1_000_259, 10)).toEqual([]);
    expect(schedule.take(1_000_260, 10).map((x) => x.name)).toEqual(['a']);
    expect(schedule.size).toBe(0);
  });

  it('makes overdue checks ready at once and marks those overdue past the bound as late', () => {
    const schedule = new CheckSchedule<ReturnType<typeof c>>({ horizonMs: 60_000, tickMs: 50, lateAfterMs: 10_000 });
    schedule.take(100_000, 1);
    expect(schedule.add(c('recent', 95_000), 100_000)).toBe('ready');
    expect(schedule.add(c('old', 1_000), 100_000)).toBe('late');
    expect(schedule.size).toBe(2);
    expect(schedule.take(100_000, 1)).toEqual([{ name: 'recent', dueMs: 95_000, late: false }]);
    expect(schedule.take(100_000, 5)).toEqual([{ name: 'old', dueMs: 1_000, late: true }]);
  });

  it('brings a due time beyond the horizon (clock skew) back to now + horizon, and survives a jump of many turns', () => {
    const schedule = new CheckSchedule<ReturnType<typeof c>>({ horizonMs: 1000, tickMs: 100, lateAfterMs: 1000 });
    schedule.add(c(1, 10_000_000), 0);
    expect(schedule.nextDueMs()).toBe(1100);
    expect(schedule.take(999, 10)).toEqual([]);
    for (let i = 0; i < 50; i++) schedule.add(c(i, 500 + i * 10), 0);
    expect(schedule.take(1_000_000, 1000)).toHaveLength(51);
    expect(schedule.size).toBe(0);
    expect(schedule.nextDueMs()).toBeUndefined();
  });

  it('holds only what was added: size counts the wheel and the ready queue, clear empties both', () => {
    const schedule = new CheckSchedule<ReturnType<typeof c>>({ horizonMs: 10_000, tickMs: 50, lateAfterMs: 1000 });
    for (let i = 0; i < 1000; i++) schedule.add(c(i, i % 2 ? 0 : 20_000 + i), 20_000);
    expect(schedule.size).toBe(1000);
    expect(schedule.readyCount).toBe(500);
    expect(schedule.clear()).toBe(1000);
    expect(schedule.size).toBe(0);
  });
});

describe('SlidingWindow', () => {
  it('counts per delay and forgets buckets older than the window', () => {
    const window = new SlidingWindow(2, 10_000, 1000);
    for (let i = 0; i < 999; i++) window.record(0, false, 5_000);
    window.record(0, true, 5_500);
    window.record(1, true, 5_500);
    expect(window.stats(0, 6_000)).toMatchObject({ checks: 1000, inconsistent: 1, fraction: 0.999 });
    expect(window.stats(0, 6_000).nines).toBeCloseTo(3);
    expect(window.stats(1, 6_000)).toMatchObject({ checks: 1, inconsistent: 1, nines: 0 });
    expect(window.stats(0, 16_000)).toEqual({ checks: 0, inconsistent: 0, fraction: undefined, nines: undefined });
  });
});

describe('PartitionProgress', () => {
  it('commits only past records whose checks are all done, in offset order', () => {
    const progress = new PartitionProgress();
    const a = progress.track(10n, 2);
    const b = progress.track(11n, 1);
    progress.track(12n, 0);
    expect(progress.toCommit()).toBeUndefined();
    b();
    expect(progress.toCommit()).toBeUndefined();
    a();
    expect(progress.toCommit()).toBeUndefined();
    a();
    a();
    expect(progress.toCommit()).toBe(13n);
    progress.markCommitted(13n);
    expect(progress.toCommit()).toBeUndefined();
    expect(progress.inFlight).toBe(0);
  });
});
