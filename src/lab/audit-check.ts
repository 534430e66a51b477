/**
 * The auditor's measure (DESIGN.md §7) as the lab applies it: for each write (key, version V,
 * commit time t) the key is checked at t + M for each horizon M. Pure.
 *
 * The decision is the auditor's own (src/audit/check.ts): the seeds' plain JSON entries are
 * presented to it as the guard's header of the same state and version, so every strategy is
 * judged by the same function the production auditor runs.
 */
import { classify, nines as auditNines } from '../audit/check.js';
import { encodeStoredValue } from '../cache/stored-value.js';
import type { KeyState } from './strategy.js';

/** Outcome of one check. */
export type CheckOutcome = 'consistent' | 'inconsistent';

/**
 * Inconsistent when the key holds an entry or known-absent at a version below the written one
 * (it would serve an older value); consistent otherwise: missing, tombstone, lease, or an
 * entry/absent at V or above.
 */
export function classifyCheck(state: KeyState, writtenVersion: bigint): CheckOutcome {
  const header = state.state === 'missing' ? null : encodeStoredValue({ state: state.state, version: state.version, data: EMPTY });
  return classify(writtenVersion, header, 0, 0).result;
}

const EMPTY = Buffer.alloc(0);

/** The fraction of consistent checks as nines, `-log10(1 - fraction)`. */
export interface Nines {
  readonly nines: number;
  /**
   * True when no check failed: the nines are then a lower bound, `log10(checks)` (one failure in
   * that many checks would have shown), not infinity.
   */
  readonly lowerBound: boolean;
}

/** Nines of `inconsistent` failures among `checks` (the auditor's formula); 0 checks give 0 nines. */
export function ninesOf(checks: number, inconsistent: number): Nines {
  return { nines: auditNines(checks - inconsistent, checks) ?? 0, lowerBound: inconsistent === 0 };
}

/** A check to run: strategy, item id, the version written and when it is due (ms, lab clock). */
export interface PendingCheck {
  readonly strategy: string;
  readonly id: number;
  readonly version: bigint;
  readonly horizonMs: number;
  readonly dueAtMs: number;
}

/**
 * The checks still to run, one FIFO per horizon: writes are recorded in time order, so each FIFO
 * is ordered by due time and `takeDue` only looks at heads.
 */
export class CheckQueue {
  readonly #fifos: Map<number, PendingCheck[]>;
  readonly #heads = new Map<number, number>();

  constructor(readonly horizonsMs: readonly number[]) {
    this.#fifos = new Map(horizonsMs.map((h) => [h, []]));
  }

  /** Schedules the checks of a write committed at `atMs`. */
  written(strategy: string, id: number, version: bigint, atMs: number): void {
    for (const [horizonMs, fifo] of this.#fifos) fifo.push({ strategy, id, version, horizonMs, dueAtMs: atMs + horizonMs });
  }

  /** Removes and returns every check due at `nowMs`. */
  takeDue(nowMs: number): PendingCheck[] {
    const due: PendingCheck[] = [];
    for (const [horizonMs, fifo] of this.#fifos) {
      let head = this.#heads.get(horizonMs) ?? 0;
      while (head < fifo.length && (fifo[head] as PendingCheck).dueAtMs <= nowMs) due.push(fifo[head++] as PendingCheck);
      if (head > 4096) {
        fifo.splice(0, head);
        head = 0;
      }
      this.#heads.set(horizonMs, head);
    }
    return due;
  }

  /** Checks not yet taken. */
  pending(): number {
    let n = 0;
    for (const [horizonMs, fifo] of this.#fifos) n += fifo.length - (this.#heads.get(horizonMs) ?? 0);
    return n;
  }
}
