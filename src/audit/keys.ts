/**
 * The keys an outbox event writes and their versions, found exactly as the sink finds them:
 * decode the payload with the codec under the sink's subject naming, map it with the sink's mapEvent (default or user mapping,
 * same key prefix and namespaces). Only versioned actions are audited (invalidate, upsert,
 * delete); revoke-leases on derived keys carries no version to compare with.
 */
import type { PayloadDecoder } from '../codec/types.js';
import type { OutboxEvent } from '../outbox/event.js';
import { mapEvent, type MappingOptions } from '../sink/mapping.js';
import type { SubjectNameStrategy } from '../sink/routing.js';
import type { AuditedKey } from './auditor.js';
import { payloadSubject } from './routing.js';

/**
 * Turns an event (read from `topic`, or from the relay when undefined) into its audited keys; may
 * return synchronously (schema already known).
 */
export type KeyMapper = (event: OutboxEvent, topic?: string) => readonly AuditedKey[] | Promise<readonly AuditedKey[]>;

/**
 * Builds a {@link KeyMapper} over the sink's codec and mapping. It throws (or rejects with) a
 * non-retriable error for an event the sink could never apply (it dead-letters those) and a
 * retriable one while the registry is unreachable.
 */
export function createKeyMapper(decoder: PayloadDecoder, mapping: MappingOptions, subjectStrategy?: SubjectNameStrategy): KeyMapper {
  const toKeys = (event: OutboxEvent, decoded: Parameters<typeof mapEvent>[1]): AuditedKey[] => {
    const keys: AuditedKey[] = [];
    for (const action of mapEvent(event, decoded, mapping)) {
      if (action.kind !== 'revoke-leases') keys.push({ key: action.key, version: action.version });
    }
    return keys;
  };
  return (event, topic) => {
    const options = { subject: payloadSubject(event, topic, subjectStrategy) };
    const known = decoder.decodeKnown?.(event.payload, options);
    if (known) return toKeys(event, known);
    return decoder.decode(event.payload, options).then((decoded) => toKeys(event, decoded));
  };
}
