/**
 * Arrays and maps that cannot be made to loop or allocate without bound by hostile bytes. avsc
 * trusts an encoded block count (2^40 items claimed in 6 bytes is read item by item); these types
 * check the cursor after every item and fail fast with "truncated buffer". Pure.
 */
import avro from 'avsc';
import type { Type } from 'avsc';

/**
 * Arrays and maps whose items take no bytes (e.g. `array<null>`) can claim any count in a few
 * bytes; beyond this many such items in one value, decoding is refused instead of allocating.
 */
export const MAX_ZERO_BYTE_ITEMS = 100_000;

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
      // defineProperty, not assignment: a `__proto__` key must stay a key, not swap the prototype.
      Object.defineProperty(out, key, { value: values._read(tap), enumerable: true, writable: true, configurable: true });
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
export function hardenedTypeHook(schema: unknown, opts: unknown): Type | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return undefined;
  const kind = (schema as { type?: unknown }).type;
  if (kind === 'array') return new HardenedArrayType(schema, opts);
  if (kind === 'map') return new HardenedMapType(schema, opts);
  return undefined;
}
