/**
 * The step shared by the Kafka sink and the binlog relay: decode a list of outbox events, map them
 * to cache actions, coalesce per key and apply the result to Redis in one writer call.
 */
import type { ApplyOutcome, CacheAction, CacheWriter } from '../cache/actions.js';
import type { PayloadDecoder } from '../codec/types.js';
import { OutboxCacheError, isPoison } from '../errors.js';
import { outboxTopic, type OutboxEvent } from '../outbox/event.js';
import { coalesceActions } from './coalesce.js';
import { mapEvent, type MappingOptions } from './mapping.js';
import { subjectRule, type SubjectNameStrategy } from './routing.js';

/** What {@link createApplyStep} needs: the codec, the guard's writer and the mapping options. */
export interface ApplyStepOptions {
  readonly decoder: PayloadDecoder;
  readonly writer: CacheWriter;
  readonly mapping?: MappingOptions;
  /** How a value's subject is named (DESIGN.md §3). Default TopicNameStrategy. */
  readonly subjectStrategy?: SubjectNameStrategy;
}

/** An event that can never be applied (bad payload, mapping error, key outside the namespaces; see isPoison). */
export interface PoisonedEvent {
  /** Index of the event in the list given to the step. */
  readonly index: number;
  readonly event: OutboxEvent;
  /** Non-retriable; its `code` and `message` name the reason. */
  readonly error: OutboxCacheError;
}

/** What one call of the step did. Every event is counted once: applied + stale + poisoned.length. */
export interface ApplyReport {
  /** Events at least one of whose own actions reached Redis (survived coalescing) and changed it. */
  readonly applied: number;
  /** Events that changed nothing: superseded or duplicated in the batch, older than Redis, or mapped to no action. */
  readonly stale: number;
  /** Events skipped as poison; the caller dead-letters or logs them. */
  readonly poisoned: readonly PoisonedEvent[];
  /** Actions sent to Redis after coalescing (one writer call in total). */
  readonly actionsSent: number;
}

/**
 * Applies a list of events, in the order given (commit order within each aggregate). Rejects, with
 * nothing assumed applied, on any error that is not poison (see `isPoison`: an outage, a refusal
 * by Redis or the registry, an unknown error): the caller
 * retries the whole list, which is safe because every action is idempotent by version. Poison
 * events are reported, never thrown, and the rest of the list is applied.
 */
export type ApplyStep = (events: readonly OutboxEvent[], topic?: string) => Promise<ApplyReport>;

/** Builds the decode + map + coalesce + apply step over a decoder and a writer. */
export function createApplyStep(options: ApplyStepOptions): ApplyStep {
  return (events, topic) => applyEvents(events, options, topic);
}

/**
 * One call of the step; see {@link ApplyStep}. `topic` is the Kafka topic every event came from
 * (it names their subject); without it, each event's subject is named after the topic
 * `outbox.event.<aggregateType>` (the relay's events).
 */
export async function applyEvents(events: readonly OutboxEvent[], options: ApplyStepOptions, topic?: string): Promise<ApplyReport> {
  const poisoned: PoisonedEvent[] = [];
  const actions: CacheAction[] = [];
  const owners: number[] = [];
  // A list nearly always holds one aggregate type: one subject string for the whole run, so the
  // codec's subject lookups hash it once instead of once per event.
  const strategy = options.subjectStrategy ?? 'TopicNameStrategy';
  let subjectOf: string | undefined;
  let decodeOptions = { subject: topic === undefined ? subjectRule(strategy, '') : subjectRule(strategy, topic) };
  const { decoder } = options;
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    if (topic === undefined && event.aggregateType !== subjectOf) {
      subjectOf = event.aggregateType;
      decodeOptions = { subject: subjectRule(strategy, outboxTopic(subjectOf)) };
    }
    try {
      // One at a time: after the first record of a schema id every decode is served from the
      // codec's cache without waiting, and nothing is left in flight when the registry fails.
      const decoded = decoder.decodeKnown?.(event.payload, decodeOptions) ?? (await decoder.decode(event.payload, decodeOptions));
      for (const action of mapEvent(event, decoded, options.mapping)) {
        actions.push(action);
        owners.push(index);
      }
    } catch (err) {
      // Only what belongs to the record is poison; anything else (an outage, an unknown error)
      // rejects the whole list, which the caller retries.
      if (!isPoison(err)) throw err;
      poisoned.push({ index, event, error: err });
    }
  }
  const coalesced = coalesceActions(actions);
  const outcomes = await applyCoalesced(coalesced.actions, options.writer);
  // Per event: 0 nothing changed, 1 changed Redis, 2 refused by Redis (poison).
  const status = new Uint8Array(events.length);
  owners.forEach((index, i) => {
    const slot = coalesced.survivorOf[i]!;
    const outcome = outcomes[slot];
    if (outcome instanceof OutboxCacheError) {
      if (status[index] !== 2) poisoned.push({ index, event: events[index]!, error: outcome });
      status[index] = 2;
    } else if (outcome === 'applied' && status[index] === 0 && coalesced.actions[slot] === actions[i]) {
      // Only the event whose own action reached Redis changed it; the ones it superseded are stale.
      status[index] = 1;
    }
  });
  let applied = 0;
  for (const s of status) if (s === 1) applied += 1;
  poisoned.sort((a, b) => a.index - b.index);
  return { applied, stale: events.length - applied - poisoned.length, poisoned, actionsSent: coalesced.actions.length };
}

/**
 * One writer call for the whole list. When Redis refuses it for a reason that belongs to some
 * keys (a key holding a foreign Redis type), each action is re-applied alone (safe: idempotent by
 * version) so that only the actions Redis refuses are reported, as errors, and the rest apply.
 * Any other failure, of the whole call or of one action alone, rejects: nothing is poison because
 * the server refused it.
 */
async function applyCoalesced(actions: readonly CacheAction[], writer: CacheWriter): Promise<(ApplyOutcome | OutboxCacheError)[]> {
  if (actions.length === 0) return [];
  try {
    return await writer.applyBatch(actions);
  } catch (err) {
    if (!isPoison(err)) throw err;
  }
  const settled = await Promise.allSettled(actions.map((action) => writer.applyBatch([action])));
  const outage = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !isPoison(s.reason));
  if (outage) throw outage.reason;
  return settled.map((s) => (s.status === 'fulfilled' ? (s.value[0] ?? 'stale') : (s.reason as OutboxCacheError)));
}
