/**
 * How Avro `long` values surface in JS in this project: a `number` when the value is a safe
 * integer (|n| <= 2^53 - 1), a `bigint` otherwise, so that they are always exact (a `version`
 * never loses precision). `timestamp-millis` stays a plain long (logical types are not converted).
 * Encoding accepts a safe-integer `number` or a `bigint` in the int64 range. Pure.
 */
import avro from 'avsc';
import type { Type } from 'avsc';

/** A JS value of an Avro `long` as this project represents it. */
export type AvroLong = number | bigint;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** True for the values an Avro `long` may be encoded from. */
export function isAvroLong(value: unknown): value is AvroLong {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX;
}

/** An avsc long type with this representation, for the `registry` option of `Type.forSchema`. */
export function createLongType(): Type {
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
