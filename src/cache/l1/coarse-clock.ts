/**
 * A millisecond clock for the L1's hit path that costs a variable read: reading the system clock
 * (performance.now, Date.now) takes 300 ns or more on virtual machines whose clock source is not
 * served in user space, several times a Map lookup. The value is refreshed every
 * {@link COARSE_CLOCK_TICK_MS} by an unreferenced timer (it never keeps the process alive), so it
 * lags real time by at most a tick, plus however long the event loop is blocked, during which no
 * invalidation message can be handled either.
 */

/** Refresh period of the coarse clock, in ms. */
export const COARSE_CLOCK_TICK_MS = 5;

let now = performance.now();
let timer: NodeJS.Timeout | undefined;

/** The coarse time in ms (performance.now's origin); starts the refresh timer on first use. */
export function coarseNow(): number {
  if (timer === undefined) {
    timer = setInterval(() => (now = performance.now()), COARSE_CLOCK_TICK_MS);
    timer.unref();
    now = performance.now();
  }
  return now;
}
