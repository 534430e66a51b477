/**
 * The checks waiting for their time: a hashed timing wheel, pure (the caller passes the clock).
 * Each check is due at commit time + its delay. Slots of `tickMs` cover the longest delay, so a
 * check is added and taken in O(1) and the wheel never holds more than what arrived during the
 * longest delay; a check is never taken before it is due, and at most one tick after. Checks
 * already due when added (the auditor is behind) go straight to the ready queue; those due more
 * than `lateAfterMs` ago are marked late. The caller bounds the total with {@link size}.
 */

/**
 * What the schedule holds: the caller's own check object, carrying its due time and the late
 * mark the schedule sets (one object per check, no wrapper: the wheel may hold many).
 */
export interface Scheduled {
  /** Due time, ms; {@link CheckSchedule.add} may bring it back to the horizon. */
  dueMs: number;
  /** Set by {@link CheckSchedule.add}: overdue by more than the late bound when added. */
  late: boolean;
}

/** Options of {@link CheckSchedule}; durations in ms. */
export interface CheckScheduleOptions {
  /** Longest delay: no check is due further ahead than this. */
  readonly horizonMs: number;
  /** Width of a slot: the most a check may be taken after its due time. Default 50. */
  readonly tickMs?: number;
  /** A check added more than this after its due time is late. */
  readonly lateAfterMs: number;
}

/** Timing wheel of checks; see the module comment. */
export class CheckSchedule<T extends Scheduled> {
  readonly #tickMs: number;
  readonly #lateAfterMs: number;
  readonly #slots: T[][];
  /** Ticks before this one have been moved to the ready queue. */
  #cursor: number | undefined;
  #ready: T[] = [];
  #readyHead = 0;
  #inWheel = 0;

  constructor(options: CheckScheduleOptions) {
    this.#tickMs = Math.max(1, Math.floor(options.tickMs ?? 50));
    this.#lateAfterMs = options.lateAfterMs;
    this.#slots = Array.from({ length: Math.ceil(options.horizonMs / this.#tickMs) + 2 }, () => []);
  }

  /** Checks held: waiting in the wheel plus ready to run. */
  get size(): number {
    return this.#inWheel + this.#ready.length - this.#readyHead;
  }

  /** Checks ready to run now. */
  get readyCount(): number {
    return this.#ready.length - this.#readyHead;
  }

  /**
   * Adds a check due at `item.dueMs`. A due time further ahead than the horizon (a commit time in
   * the future, from clock skew) is brought back to `nowMs + horizonMs`. Returns where it went.
   */
  add(item: T, nowMs: number): 'scheduled' | 'ready' | 'late' {
    this.#advance(nowMs);
    const cursor = this.#cursor ?? 0;
    const due = Math.min(item.dueMs, nowMs + (this.#slots.length - 2) * this.#tickMs);
    item.dueMs = due;
    const tick = Math.floor(due / this.#tickMs);
    if (tick < cursor) {
      item.late = nowMs - due > this.#lateAfterMs;
      this.#ready.push(item);
      return item.late ? 'late' : 'ready';
    }
    item.late = false;
    this.#slots[tick % this.#slots.length]!.push(item);
    this.#inWheel += 1;
    return 'scheduled';
  }

  /** Takes up to `max` checks due by `nowMs`, oldest tick first. */
  take(nowMs: number, max: number): T[] {
    this.#advance(nowMs);
    const end = Math.min(this.#ready.length, this.#readyHead + max);
    const out = this.#ready.slice(this.#readyHead, end);
    this.#readyHead = end;
    if (this.#readyHead > 4096 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
    return out;
  }

  /** When the next waiting check becomes due (ms), or undefined when the wheel is empty. */
  nextDueMs(): number | undefined {
    if (this.readyCount > 0) return this.#cursor === undefined ? 0 : this.#cursor * this.#tickMs;
    if (this.#inWheel === 0 || this.#cursor === undefined) return undefined;
    for (let i = 0; i < this.#slots.length; i++) {
      const tick = this.#cursor + i;
      if (this.#slots[tick % this.#slots.length]!.length > 0) return (tick + 1) * this.#tickMs;
    }
    return undefined;
  }

  /** Removes every check (on stop); returns how many there were. */
  clear(): number {
    const dropped = this.size;
    for (const slot of this.#slots) slot.length = 0;
    this.#ready = [];
    this.#readyHead = 0;
    this.#inWheel = 0;
    return dropped;
  }

  /** Moves every slot whose tick has fully passed (tick end <= now) into the ready queue. */
  #advance(nowMs: number): void {
    const current = Math.floor(nowMs / this.#tickMs);
    if (this.#cursor === undefined) {
      this.#cursor = current;
      return;
    }
    // Past a whole turn, every slot is due: one pass over the wheel is enough.
    const last = Math.min(current, this.#cursor + this.#slots.length);
    for (let tick = this.#cursor; tick < last && this.#inWheel > 0; tick++) {
      const slot = this.#slots[tick % this.#slots.length]!;
      if (slot.length === 0) continue;
      for (const entry of slot) this.#ready.push(entry);
      this.#inWheel -= slot.length;
      slot.length = 0;
    }
    if (current > this.#cursor) this.#cursor = current;
  }
}
