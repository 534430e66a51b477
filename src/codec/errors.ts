/**
 * Error codes raised by the codec, in one place so the sink can route them (dead-letter topic for
 * non-retriable ones, pause-and-retry for retriable ones) and operators can search for them.
 */
import { SchemaError } from '../errors.js';
import type { InvalidField } from './avro-types.js';

/**
 * Every code the codec and the registry client use. Retriable: `SCHEMA_REGISTRY_UNREACHABLE`,
 * `SCHEMA_REGISTRY_TIMEOUT`, `SCHEMA_REGISTRY_UNAVAILABLE`, `SCHEMA_REGISTRY_AUTH`,
 * `SCHEMA_REGISTRY_BAD_RESPONSE`. All others are final answers about the input.
 */
export const CODEC_ERROR_CODES = [
  // DecodeError: the bytes themselves.
  'DECODE_BAD_MAGIC',
  'DECODE_TRUNCATED',
  'DECODE_BAD_SCHEMA_ID',
  'DECODE_INVALID_AVRO',
  // SchemaError: schemas and the registry's definite answers.
  'SCHEMA_UNKNOWN_ID',
  'SCHEMA_SUBJECT_MISMATCH',
  'SCHEMA_NOT_AVRO',
  'SCHEMA_UNRESOLVABLE',
  'SCHEMA_INVALID',
  'SCHEMA_NOT_REGISTERED',
  'SCHEMA_SUBJECT_NOT_FOUND',
  'SCHEMA_VERSION_NOT_FOUND',
  'SCHEMA_NOT_FOUND',
  'SCHEMA_SUBJECT_CONFIG_NOT_FOUND',
  'SCHEMA_INCOMPATIBLE',
  'SCHEMA_INVALID_VERSION',
  'SCHEMA_INVALID_COMPATIBILITY_LEVEL',
  'SCHEMA_REGISTRY_REJECTED',
  'ENCODE_INVALID_VALUE',
  // Retriable: the registry could not answer.
  'SCHEMA_REGISTRY_UNREACHABLE',
  'SCHEMA_REGISTRY_TIMEOUT',
  'SCHEMA_REGISTRY_UNAVAILABLE',
  'SCHEMA_REGISTRY_AUTH',
  'SCHEMA_REGISTRY_BAD_RESPONSE',
] as const;

/** One of {@link CODEC_ERROR_CODES}. */
export type CodecErrorCode = (typeof CODEC_ERROR_CODES)[number];

/**
 * A value that does not fit its writer schema, refused before encoding (code `ENCODE_INVALID_VALUE`,
 * never retriable). The message and `fields` name each offending field path and the expected Avro
 * type, never the value itself.
 */
export class InvalidValueError extends SchemaError {
  readonly fields: readonly InvalidField[];
  constructor(schemaName: string, fields: readonly InvalidField[]) {
    const list = fields.map((f) => `${f.path === '' ? 'the value' : `field '${f.path}'`} must be ${f.expected} (got ${f.got})`);
    super(`value does not fit schema ${schemaName}: ${list.join('; ')}`, { code: 'ENCODE_INVALID_VALUE' });
    this.fields = fields;
  }
}
