/**
 * Rate limit of the day-2 operations: units (rows, keys) per second. A batch goes once the
 * previous batches are paid for at the rate, so the average never exceeds it. The decision is a pure function of the clock; {@link createPacer} waits it out, and an
 * abort ends the wait at once (the caller stops between batches).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** State of a pacer: when the units taken so far will have been paid for, ms on its clock. */
export interface PacerState {
  readonly paidUntilMs: number;
}

/**
 * Takes `units` at `nowMs` under `perSecond`: returns how long to wait first (ms: until the units
 * taken before are paid for) and the next state. Unused time never accumulates into a burst.
 */
export function pace(state: PacerState, units: number, nowMs: number, perSecond: number): { waitMs: number; next: PacerState } {
  const start = Math.max(state.paidUntilMs, nowMs);
  return { waitMs: start - nowMs, next: { paidUntilMs: start + (units * 1000) / perSecond } };
}

/** Waits as the rate asks; `take` resolves false when aborted instead of waiting. */
export interface Pacer {
  take(units: number): Promise<boolean>;
}

/** A pacer at `perSecond` (undefined: no limit) on the monotonic clock. */
export function createPacer(perSecond: number | undefined, signal?: AbortSignal, clock: () => number = () => performance.now()): Pacer {
  let state: PacerState = { paidUntilMs: clock() };
  return {
    async take(units) {
      if (signal?.aborted) return false;
      if (perSecond === undefined) return true;
      const { waitMs, next } = pace(state, units, clock(), perSecond);
      state = next;
      if (waitMs <= 0) return true;
      try {
        await sleep(waitMs, undefined, { signal });
        return true;
      } catch {
        return false;
      }
    },
  };
}
