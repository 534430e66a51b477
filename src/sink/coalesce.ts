/**
 * Coalescing of cache actions per key (DESIGN.md §4): every versioned action with a higher version
 * replaces the whole state of a key, so within a batch only the highest version per key needs to
 * reach Redis. Pure.
 */
import type { CacheAction } from '../cache/actions.js';

/** One action that survived coalescing, with the indexes of the inputs it stands for. */
export interface CoalescedAction {
  readonly action: CacheAction;
  /** Indexes (into the input list) of every action this one replaced, itself included. */
  readonly sources: readonly number[];
}

interface Slot {
  versioned?: { action: Extract<CacheAction, { version: bigint }>; index: number; sources: number[] };
  revoke?: { action: CacheAction; sources: number[] };
}

/**
 * Keeps, per key, the versioned action with the highest version (the first one at that version,
 * as applying them in order would: the guard refuses an equal version) and one `revoke-leases`.
 * Output follows the first appearance of each key; a key with both kinds gets its revoke first.
 * Applying the result leaves Redis exactly as applying every input in order would.
 */
export function coalesceActions(actions: readonly CacheAction[]): CoalescedAction[] {
  const slots = new Map<string, Slot>();
  actions.forEach((action, index) => {
    let slot = slots.get(action.key);
    if (!slot) {
      slot = {};
      slots.set(action.key, slot);
    }
    if (action.kind === 'revoke-leases') {
      if (slot.revoke) slot.revoke.sources.push(index);
      else slot.revoke = { action, sources: [index] };
      return;
    }
    const current = slot.versioned;
    if (!current) slot.versioned = { action, index, sources: [index] };
    else if (action.version > current.action.version) slot.versioned = { action, index, sources: [...current.sources, index] };
    else current.sources.push(index);
  });
  const out: CoalescedAction[] = [];
  for (const slot of slots.values()) {
    if (slot.revoke) out.push({ action: slot.revoke.action, sources: slot.revoke.sources });
    if (slot.versioned) out.push({ action: slot.versioned.action, sources: slot.versioned.sources });
  }
  return out;
}
