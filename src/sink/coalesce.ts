/**
 * Coalescing of cache actions per key (DESIGN.md §4): every versioned action with a higher version
 * replaces the whole state of a key, so within a batch only the highest version per key needs to
 * reach Redis. Pure.
 */
import type { CacheAction } from '../cache/actions.js';

/** Result of {@link coalesceActions}. */
export interface Coalesced {
  /** The actions to apply, in the order their keys first appear. */
  readonly actions: readonly CacheAction[];
  /** For each input action, the index in `actions` of the action that stands for it. */
  readonly survivorOf: Int32Array;
}

/**
 * Keeps, per key, the versioned action with the highest version (the first one at that version,
 * as applying them in order would: the guard refuses an equal version) and one `revoke-leases`.
 * A key with both kinds gets its revoke first. Applying the result leaves Redis exactly as
 * applying every input in order would.
 */
export function coalesceActions(actions: readonly CacheAction[]): Coalesced {
  // Per key: output slots of its revoke and of its versioned action (-1 while absent).
  const slots = new Map<string, { revoke: number; versioned: number }>();
  const out: CacheAction[] = [];
  const survivorOf = new Int32Array(actions.length);
  actions.forEach((action, index) => {
    let slot = slots.get(action.key);
    if (!slot) {
      slot = { revoke: -1, versioned: -1 };
      slots.set(action.key, slot);
    }
    if (action.kind === 'revoke-leases') {
      if (slot.revoke < 0) slot.revoke = out.push(action) - 1;
      survivorOf[index] = slot.revoke;
      return;
    }
    if (slot.versioned < 0) {
      slot.versioned = out.push(action) - 1;
    } else {
      const current = out[slot.versioned] as Extract<CacheAction, { version: bigint }>;
      if (action.version > current.version) out[slot.versioned] = action;
    }
    survivorOf[index] = slot.versioned;
  });
  return { actions: orderRevokesFirst(out, slots, survivorOf), survivorOf };
}

/** Moves each key's revoke before its versioned action when the versioned one came first. */
function orderRevokesFirst(out: CacheAction[], slots: Map<string, { revoke: number; versioned: number }>, survivorOf: Int32Array): CacheAction[] {
  const swap = new Map<number, number>();
  for (const slot of slots.values()) {
    if (slot.revoke > slot.versioned && slot.versioned >= 0) {
      swap.set(slot.revoke, slot.versioned).set(slot.versioned, slot.revoke);
      [out[slot.revoke], out[slot.versioned]] = [out[slot.versioned]!, out[slot.revoke]!];
    }
  }
  if (swap.size > 0) survivorOf.forEach((s, i) => (survivorOf[i] = swap.get(s) ?? s));
  return out;
}
