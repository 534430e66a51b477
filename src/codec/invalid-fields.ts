/**
 * Field-level validation messages for a value against an avsc type, and Avro type names. Uses only
 * methods of the type it is given (no runtime import of avsc), so the outbox writer can validate
 * events without loading the Avro library at import time. Pure; no I/O.
 */
import type { Type } from 'avsc';

/** Full Avro name of a named type (`com.example.users.UserChanged`), else its type name (`long`). */
export function avroTypeName(type: Type): string {
  if (type.name) return type.name;
  return type.typeName.replace(/^abstract:/, '');
}

/** One reason a value does not fit a schema. */
export interface InvalidField {
  /** Dotted path of the offending field (`address.city`, `extraKeys.2`), or `` for the root. */
  readonly path: string;
  /** Avro type expected there (`string`, `long`, `null | string`, `com.example.Address`). */
  readonly expected: string;
  /** JS type found (`number`, `undefined`...): never the value, which may hold personal data. */
  readonly got: string;
}

function describeType(type: Type): string {
  const branches = (type as unknown as { types?: Type[] }).types;
  return Array.isArray(branches) ? branches.map(describeType).join(' | ') : avroTypeName(type);
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Buffer.isBuffer(value)) return 'Buffer';
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    return Number.isInteger(value) ? 'number beyond 2^53 (use a bigint)' : 'non-integer number';
  }
  return typeof value;
}

/** Every field of `value` that does not fit `type` (empty when it fits). */
export function invalidFields(type: Type, value: unknown): InvalidField[] {
  const found: InvalidField[] = [];
  type.isValid(value, {
    errorHook(path, val, fieldType) {
      found.push({ path: path.join('.'), expected: describeType(fieldType), got: describeValue(val) });
    },
  });
  return found;
}
