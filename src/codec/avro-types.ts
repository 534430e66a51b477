/**
 * Parsing Avro schemas into avsc types the way every part of the project needs them: the same
 * `long` representation everywhere (see avro-long.ts: number when safe, else bigint) and decoding
 * that cannot be made to loop or allocate without bound by hostile bytes (hardened-containers.ts).
 * Also: schema identity keys; names and field-level validation messages are in invalid-fields.ts.
 * Pure; no I/O.
 */
import avro from 'avsc';
import type { Type } from 'avsc';
import { SchemaError } from '../errors.js';
import { createLongType } from './avro-long.js';
import { hardenedTypeHook } from './hardened-containers.js';

export { isAvroLong, type AvroLong } from './avro-long.js';
export { MAX_ZERO_BYTE_ITEMS } from './hardened-containers.js';
export { avroTypeName, invalidFields, type InvalidField } from './invalid-fields.js';

/** An Avro schema as JSON (object, array for a union, or a primitive name). */
export type AvroSchema = avro.schema.AvroSchema;

/**
 * Parses a schema (JSON text, JSON value, or an avsc type to re-parse with this project's rules).
 * Throws a non-retriable SchemaError `SCHEMA_INVALID` naming the problem.
 */
export function parseAvroSchema(schema: string | AvroSchema | Type): Type {
  let json: unknown = schema;
  try {
    if (avro.Type.isType(schema)) json = (schema as Type).schema({ exportAttrs: true });
    else if (typeof schema === 'string') json = parseSchemaText(schema);
    return avro.Type.forSchema(json as AvroSchema, {
      registry: { long: createLongType() },
      typeHook: hardenedTypeHook as (schema: unknown, opts: unknown) => Type,
    });
  } catch (err) {
    throw new SchemaError(`invalid Avro schema: ${err instanceof Error ? err.message : String(err)}`, {
      code: 'SCHEMA_INVALID',
      cause: err,
    });
  }
}

/** Schema text is JSON, except that a bare primitive name (`string`) is accepted too. */
function parseSchemaText(text: string): unknown {
  const trimmed = text.trim();
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(trimmed) ? trimmed : JSON.parse(trimmed);
}

/**
 * A key that is equal for two schemas exactly when they declare the same thing (names, fields,
 * defaults, order): avsc's schema export with attributes, as JSON. Formatting and key order of the
 * source text do not matter.
 */
export function schemaKey(type: Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}
