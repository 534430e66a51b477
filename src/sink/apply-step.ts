/**
 * The step shared by the Kafka sink and the binlog relay: decode a list of outbox events, map them
 * to cache actions, coalesce per key and apply the result to Redis in one writer call.
 */
import type { ApplyOutcome, CacheAction, CacheWriter } from '../cache/actions.js';
import type { DecodedValue, PayloadDecoder } from '../codec/types.js';
import { DecodeError, OutboxCacheError, errorMessage, isRetriable } from '../errors.js';
import { outboxSubject, type OutboxEvent } from '../outbox/event.js';
import { coalesceActions } from './coalesce.js';
import { mapEvent, type MappingOptions } from './mapping.js';

/** What {@link createApplyStep} needs: the codec, the guard's writer and the mapping options. */
export interface ApplyStepOptions {
  readonly decoder: PayloadDecoder;
  readonly writer: CacheWriter;
  readonly mapping?: MappingOptions;
}

/** An event that can never be applied (bad payload, mapping error, key outside the namespaces). */
export interface PoisonedEvent {
  /** Index of the event in the list given to the step. */
  readonly index: number;
  readonly event: OutboxEvent;
  /** Non-retriable; its `code` and `message` name the reason. */
  readonly error: OutboxCacheError;
}

/** What one call of the step did. Every event is counted once: applied + stale + poisoned.length. */
export interface ApplyReport {
  /** Events at least one of whose actions changed Redis. */
  readonly applied: number;
  /** Events that changed nothing: superseded by a higher version (in the batch or in Redis), or mapped to no action. */
  readonly stale: number;
  /** Events skipped as poison; the caller dead-letters or logs them. */
  readonly poisoned: readonly PoisonedEvent[];
  /** Actions sent to Redis after coalescing (one writer call in total). */
  readonly actionsSent: number;
}

/**
 * Applies a list of events, in the order given (commit order within each aggregate). Rejects, with
 * nothing assumed applied, when the registry or Redis is unavailable (retriable errors): the caller
 * retries the whole list, which is safe because every action is idempotent by version. Poison
 * events are reported, never thrown, and the rest of the list is applied.
 */
export type ApplyStep = (events: readonly OutboxEvent[]) => Promise<ApplyReport>;

/** Builds the decode + map + coalesce + apply step over a decoder and a writer. */
export function createApplyStep(options: ApplyStepOptions): ApplyStep {
  return (events) => applyEvents(events, options);
}

/** One call of the step; see {@link ApplyStep}. */
export async function applyEvents(events: readonly OutboxEvent[], options: ApplyStepOptions): Promise<ApplyReport> {
  const decoded = await decodeAll(events, options.decoder);
  const poisoned: PoisonedEvent[] = [];
  const actions: CacheAction[] = [];
  const owner: number[] = [];
  events.forEach((event, index) => {
    const result = decoded[index];
    if (result === undefined) return;
    if (result instanceof OutboxCacheError) {
      poisoned.push({ index, event, error: result });
      return;
    }
    try {
      for (const action of mapEvent(event, result, options.mapping)) {
        actions.push(action);
        owner.push(index);
      }
    } catch (err) {
      poisoned.push({ index, event, error: asPoison(err) });
    }
  });
  const coalesced = coalesceActions(actions);
  const outcomes = await applyCoalesced(coalesced.map((c) => c.action), options.writer);
  const changed = new Set<number>();
  const refused = new Map<number, OutboxCacheError>();
  coalesced.forEach((c, i) => {
    const outcome = outcomes[i];
    for (const source of c.sources) {
      const index = owner[source] ?? -1;
      if (outcome instanceof OutboxCacheError) refused.set(index, outcome);
      else if (outcome === 'applied') changed.add(index);
    }
  });
  for (const [index, error] of refused) {
    changed.delete(index);
    poisoned.push({ index, event: events[index]!, error });
  }
  const applied = events.filter((_, index) => changed.has(index)).length;
  poisoned.sort((a, b) => a.index - b.index);
  return { applied, stale: events.length - applied - poisoned.length, poisoned, actionsSent: coalesced.length };
}

/**
 * One writer call for the whole list. When Redis refuses it for a reason that is not an outage
 * (e.g. a key holding a foreign Redis type), each action is re-applied alone (safe: idempotent by
 * version) so that only the actions Redis refuses are reported, as errors, and the rest apply.
 */
async function applyCoalesced(actions: readonly CacheAction[], writer: CacheWriter): Promise<(ApplyOutcome | OutboxCacheError)[]> {
  if (actions.length === 0) return [];
  try {
    return await writer.applyBatch(actions);
  } catch (err) {
    if (isRetriable(err)) throw err;
  }
  const settled = await Promise.allSettled(actions.map((action) => writer.applyBatch([action])));
  const outage = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && isRetriable(s.reason));
  if (outage) throw outage.reason;
  return settled.map((s) => (s.status === 'fulfilled' ? (s.value[0] ?? 'stale') : asPoison(s.reason)));
}

/**
 * Decodes every payload concurrently. Returns the decoded value or the poison error per event;
 * throws the first retriable error (registry down) once all calls have settled, so no request is
 * left running behind the caller's retry.
 */
async function decodeAll(events: readonly OutboxEvent[], decoder: PayloadDecoder): Promise<(DecodedValue | OutboxCacheError)[]> {
  const settled = await Promise.allSettled(
    events.map((event) => decoder.decode(event.payload, { subject: outboxSubject(event.aggregateType) })),
  );
  const outage = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && isRetriable(s.reason));
  if (outage) throw outage.reason;
  return settled.map((s) => (s.status === 'fulfilled' ? s.value : asPoison(s.reason)));
}

/** A non-retriable error as the project's error type (unexpected errors keep their message). */
function asPoison(err: unknown): OutboxCacheError {
  if (err instanceof OutboxCacheError) return err;
  return new DecodeError(`unexpected error: ${errorMessage(err)}`, { code: 'DECODE_FAILED', cause: err });
}
