/**
 * Pure helpers of the read path's lease handling: how long to sleep between polls while another
 * reader holds the lease, and how old kept (stale) bytes are by Redis's clock.
 */
import type { StaleBytes } from './stored-value.js';

/** First poll delay, growth factor and ceiling, in ms: early polls are cheap for fast loads. */
const FIRST_POLL_MS = 4;
const POLL_GROWTH = 1.6;
const MAX_POLL_MS = 100;

/**
 * Delay before poll number `attempt` (0-based) of a reader waiting for another reader's fill:
 * grows from 4 ms to at most 100 ms, jittered uniformly over ×[0.5, 1.5) with `random` in [0, 1)
 * so that waiters of one key do not poll in step.
 */
export function pollDelayMs(attempt: number, random: () => number): number {
  const base = Math.min(MAX_POLL_MS, FIRST_POLL_MS * POLL_GROWTH ** attempt);
  return Math.max(1, Math.round(base * (0.5 + random())));
}

/** Kept bytes seen in a script reply, with the Redis time of that reply and the local time it arrived. */
export interface StaleCandidate {
  readonly bytes: StaleBytes;
  /** Redis time of the reply that carried the bytes, ms since 1970. */
  readonly redisNowMs: number;
  /** Local monotonic time (performance.now()) when that reply arrived. */
  readonly seenAt: number;
}

/**
 * Age of the kept bytes since their invalidation, in ms: Redis's clock at the reply (the same
 * clock that stamped the invalidation) plus the local monotonic time elapsed since.
 */
export function staleAgeMs(candidate: StaleCandidate, localNow: number): number {
  return candidate.redisNowMs - candidate.bytes.invalidatedAtMs + Math.max(0, localNow - candidate.seenAt);
}
