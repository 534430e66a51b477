import type { Type } from 'avsc';

/**
 * A schema as registered under a subject, resolved once before any transaction starts, so that
 * encoding an event is pure and never calls the registry while the caller holds row locks.
 */
export interface WriterSchema {
  /** Subject it is registered under, e.g. `outbox.event.user-value`. */
  readonly subject: string;
  /** Registry id; written big-endian after the 0x00 magic byte. */
  readonly id: number;
  /** Full Avro name of the schema, e.g. `com.example.users.UserChanged`. */
  readonly name: string;
  /** Parsed avsc type, used to validate and encode values. */
  readonly type: Type;
}

/** A framed value decoded with its writer schema (optionally resolved into a reader schema). */
export interface DecodedValue {
  readonly schemaId: number;
  /** Full Avro name of the writer schema. */
  readonly writerSchemaName: string;
  readonly value: unknown;
}

/** Decodes Confluent-framed Avro values; implemented by the codec over the Schema Registry. */
export interface PayloadDecoder {
  /**
   * Decodes `framed`, checking that its schema id is registered under `subject` (a name, or a
   * function of the writer schema's full name for the record-name strategies). Rejects with a
   * non-retriable DecodeError/SchemaError for bytes that will never decode (bad magic byte,
   * truncated, unknown id, wrong subject, invalid under the writer schema) and a retriable
   * SchemaError when the registry cannot be reached.
   */
  decode(framed: Buffer, options: { readonly subject: SubjectOption }): Promise<DecodedValue>;
  /**
   * Optional synchronous form of {@link decode} for values whose schema needs no registry call:
   * the decoded value, or undefined when only `decode` can answer (the schema id is not known and
   * confirmed for the subject yet). Throws what `decode` would reject with.
   */
  decodeKnown?(framed: Buffer, options: { readonly subject: SubjectOption }): DecodedValue | undefined;
}

/** The subject a value's schema id must be under: a name, or a function of the writer schema's full name. */
export type SubjectOption = string | ((writerSchemaName: string) => string);
