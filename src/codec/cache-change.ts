/**
 * The standard cache-change event (`schemas/avro/io.outboxcache.CacheChange.v1.avsc`): an outbox
 * payload that tells the sink exactly what to do with a cache entry. The sink recognises it by the
 * writer schema's full name, {@link CACHE_CHANGE_SCHEMA_NAME}.
 */
import type { AvroLong, AvroSchema } from './avro-types.js';
import type { DecodedValue } from './types.js';

/** Full Avro name of the cache-change event. */
export const CACHE_CHANGE_SCHEMA_NAME = 'io.outboxcache.CacheChange';

/** What the sink does with the entry: write `value` through, mark it deleted, or drop it. */
export type CacheChangeOperation = 'UPSERT' | 'DELETE' | 'INVALIDATE';

/** A decoded cache-change event. Longs follow the codec's rule: number when safe, else bigint. */
export interface CacheChange {
  /** Entity (cache namespace), e.g. `user`. */
  readonly entity: string;
  /** Entity id as text. */
  readonly id: string;
  /** Aggregate version, strictly increasing per entity id in commit order. */
  readonly version: AvroLong;
  readonly operation: CacheChangeOperation;
  /** Bytes to store on UPSERT (write-through); null to only invalidate. */
  readonly value: Buffer | null;
  /** Further cache keys to invalidate at the same version (derived keys, lists). */
  readonly extraKeys: readonly string[];
  /** When the change happened, epoch milliseconds UTC (Avro `timestamp-millis`). */
  readonly occurredAt: AvroLong;
}

/**
 * Version 1 of the schema, identical to the shipped `.avsc` file (a test keeps them equal), for
 * writers that resolve a WriterSchema without reading files: `codec.writerSchema(subject, CACHE_CHANGE_SCHEMA_V1)`.
 */
export const CACHE_CHANGE_SCHEMA_V1: AvroSchema = {
  type: 'record',
  name: 'CacheChange',
  namespace: 'io.outboxcache',
  doc: 'A change to one cached entity, applied by the sink under the version guard.',
  fields: [
    { name: 'entity', type: 'string', doc: 'Entity (cache namespace), e.g. user.' },
    { name: 'id', type: 'string', doc: 'Entity id as text.' },
    { name: 'version', type: 'long', doc: 'Aggregate version, strictly increasing per entity id in commit order.' },
    {
      name: 'operation',
      type: { type: 'enum', name: 'CacheOperation', symbols: ['UPSERT', 'DELETE', 'INVALIDATE'] },
      doc: 'UPSERT writes value through, DELETE records the entity as absent, INVALIDATE drops the entry.',
    },
    { name: 'value', type: ['null', 'bytes'], default: null, doc: 'Bytes to store on UPSERT; null to only invalidate.' },
    { name: 'extraKeys', type: { type: 'array', items: 'string' }, default: [], doc: 'Derived cache keys (spanning aggregates, no version of their own) whose entries are dropped and whose fill leases are revoked.' },
    { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' }, doc: 'Epoch milliseconds, UTC.' },
  ],
};

/** True when `decoded` was written with the cache-change schema (any version). */
export function isCacheChange(decoded: DecodedValue): decoded is DecodedValue & { readonly value: CacheChange } {
  return decoded.writerSchemaName === CACHE_CHANGE_SCHEMA_NAME;
}
