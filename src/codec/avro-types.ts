/**
 * Parsing Avro schemas into avsc types the way every part of the project needs them: the same
 * `long` representation everywhere, and decoding that cannot be made to loop or allocate without
 * bound by hostile bytes. Pure; no I/O.
 *
 * Avro `long` values (including `timestamp-millis`, which stays a plain long: logical types are not
 * converted) surface as a JS `number` when they are safe integers (|n| <= 2^53 - 1) and as a
 * `bigint` otherwise, so they are always exact: `version` fields in particular never lose
 * precision. Encoding accepts either a safe-integer `number` or a `bigint` in the int64 range.
 */
import avro from 'avsc';
import type { Type } from 'avsc';
import { SchemaError } from '../errors.js';

/** An Avro schema as JSON (object, array for a union, or a primitive name). */
export type AvroSchema = avro.schema.AvroSchema;

/** A JS value of an Avro `long` as this project represents it (see the module comment). */
export type AvroLong = number | bigint;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Arrays and maps whose items take no bytes (e.g. `array<null>`) can claim any count in a few
 * bytes; beyond this many such items in one value, decoding is refused instead of allocating.
 */
export const MAX_ZERO_BYTE_ITEMS = 100_000;

function isAvroLong(value: unknown): value is AvroLong {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX;
}

function createLongType(): Type {
  return avro.types.LongType.__with({
    fromBuffer(buf: Buffer): AvroLong {
      const n = buf.readBigInt64LE(0);
      return n >= SAFE_MIN && n <= SAFE_MAX ? Number(n) : n;
    },
    toBuffer(value: AvroLong): Buffer {
      const buf = Buffer.allocUnsafe(8);
      buf.writeBigInt64LE(BigInt(value));
      return buf;
    },
    fromJSON(value: unknown): unknown {
      return value;
    },
    toJSON(value: AvroLong): number | string {
      // JSON has no int64; unsafe values become decimal strings rather than silently rounding.
      return typeof value === 'bigint' ? value.toString() : value;
    },
    isValid: isAvroLong,
    compare(a: AvroLong, b: AvroLong): number {
      return a < b ? -1 : a > b ? 1 : 0;
    },
  });
}

/** The parts of avsc's internal read cursor the hardened readers use. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
}
interface ItemReader {
  _read(tap: Tap): unknown;
}

function readBlockCount(tap: Tap): number {
  let n = tap.readLong();
  if (n < 0) {
    n = -n;
    tap.skipLong(); // Block size in bytes: not needed when reading every item.
  }
  if (!Number.isSafeInteger(n) || tap.pos > tap.buf.length) throw new Error('truncated buffer (block count)');
  return n;
}

/**
 * Reads array/map blocks item by item, checking the cursor after each item, so that a huge claimed
 * count over a short buffer fails fast instead of looping (avsc trusts the count).
 */
function readBlocks(tap: Tap, readItem: () => void): void {
  let zeroByteItems = 0;
  for (let n = readBlockCount(tap); n !== 0; n = readBlockCount(tap)) {
    for (let i = 0; i < n; i++) {
      const before = tap.pos;
      readItem();
      if (tap.pos > tap.buf.length) throw new Error('truncated buffer');
      if (tap.pos <= before && ++zeroByteItems > MAX_ZERO_BYTE_ITEMS) {
        throw new Error(`more than ${MAX_ZERO_BYTE_ITEMS} zero-byte items in one array or map`);
      }
    }
  }
}

interface ItemSkipper {
  _skip(tap: Tap): void;
}

type TypeConstructor = new (schema: unknown, opts: unknown) => Type;

/** avsc's array type with reads and skips that check the cursor after every item. */
class HardenedArrayType extends (avro.types.ArrayType as unknown as TypeConstructor) {
  declare readonly itemsType: ItemReader & ItemSkipper;
  _read(tap: Tap): unknown[] {
    const items = this.itemsType;
    const out: unknown[] = [];
    readBlocks(tap, () => out.push(items._read(tap)));
    return out;
  }
  _skip(tap: Tap): void {
    const items = this.itemsType;
    readBlocks(tap, () => items._skip(tap));
  }
}

/** avsc's map type with reads and skips that check the cursor after every entry. */
class HardenedMapType extends (avro.types.MapType as unknown as TypeConstructor) {
  declare readonly valuesType: ItemReader & ItemSkipper;
  _read(tap: Tap): Record<string, unknown> {
    const values = this.valuesType;
    const out: Record<string, unknown> = {};
    readBlocks(tap, () => {
      const key = tap.readString();
      out[key] = values._read(tap);
    });
    return out;
  }
  _skip(tap: Tap): void {
    const values = this.valuesType;
    readBlocks(tap, () => {
      tap.readString();
      values._skip(tap);
    });
  }
}

/**
 * Builds arrays and maps as hardened types (avsc freezes its types, so they are chosen at parse
 * time). avsc copies a reader type's `_read` into the resolvers it creates, so resolved reads are
 * hardened too.
 */
function hardenedTypeHook(schema: unknown, opts: unknown): Type | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const kind = (schema as { type?: unknown }).type;
  if (kind === 'array') return new HardenedArrayType(schema, opts);
  if (kind === 'map') return new HardenedMapType(schema, opts);
  return undefined;
}

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

/** Full Avro name of a named type (`com.example.users.UserChanged`), else its type name (`long`). */
export function avroTypeName(type: Type): string {
  if (type.name) return type.name;
  return type.typeName.replace(/^abstract:/, '');
}

/**
 * A key that is equal for two schemas exactly when they declare the same thing (names, fields,
 * defaults, order): avsc's schema export with attributes, as JSON. Formatting and key order of the
 * source text do not matter.
 */
export function schemaKey(type: Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
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
