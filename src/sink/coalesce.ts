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
  // Per key: output slot of its versioned action, and of its revoke. Plain index maps (the
  // revokes' only once one appears): no object per key, as this runs for every record.
  const versionedSlot = new Map<string, number>();
  let revokeSlot: Map<string, number> | undefined;
  const out: CacheAction[] = [];
  const survivorOf = new Int32Array(actions.length);
  for (let index = 0; index < actions.length; index++) {
    const action = actions[index]!;
    if (action.kind === 'revoke-leases') {
      revokeSlot ??= new Map();
      let slot = revokeSlot.get(action.key);
      if (slot === undefined) {
        slot = out.push(action) - 1;
        revokeSlot.set(action.key, slot);
      }
      survivorOf[index] = slot;
      continue;
    }
    let slot = versionedSlot.get(action.key);
    if (slot === undefined) {
      slot = out.push(action) - 1;
      versionedSlot.set(action.key, slot);
    } else {
      const current = out[slot] as Extract<CacheAction, { version: bigint }>;
      if (action.version > current.version) out[slot] = action;
    }
    survivorOf[index] = slot;
  }
  if (revokeSlot) orderRevokesFirst(out, revokeSlot, versionedSlot, survivorOf);
  return { actions: out, survivorOf };
}

/** Moves each key's revoke before its versioned action when the versioned one came first. */
function orderRevokesFirst(
  out: CacheAction[], revokeSlot: ReadonlyMap<string, number>, versionedSlot: ReadonlyMap<string, number>, survivorOf: Int32Array,
): void {
  const swap = new Map<number, number>();
  for (const [key, revoke] of revokeSlot) {
    const versioned = versionedSlot.get(key);
    if (versioned !== undefined && revoke > versioned) {
      swap.set(revoke, versioned).set(versioned, revoke);
      [out[revoke], out[versioned]] = [out[versioned]!, out[revoke]!];
    }
  }
  if (swap.size > 0) survivorOf.forEach((s, i) => (survivorOf[i] = swap.get(s) ?? s));
}
