/**
 * Confluent wire framing of Avro values (DESIGN.md §2–§3): one magic byte `0x00`, the schema id as
 * a 4-byte big-endian unsigned integer, then the Avro binary body. Pure functions, no I/O.
 */
import { DecodeError } from '../errors.js';

/** The only magic byte the Confluent framing defines. */
export const MAGIC_BYTE = 0x00;

/** Bytes before the Avro body: magic byte plus 4-byte schema id. */
export const FRAME_HEADER_LENGTH = 5;

/** Largest schema id the 4-byte field can carry. */
export const MAX_SCHEMA_ID = 0xffff_ffff;

/** Stable codes of the framing errors (all {@link DecodeError}, never retriable). */
export const FRAMING_ERROR_CODES = {
  /** First byte is not 0x00: not Confluent-framed (plain JSON, another serializer...). */
  BAD_MAGIC: 'DECODE_BAD_MAGIC',
  /** Fewer than 5 bytes: the header itself is cut short. */
  TRUNCATED: 'DECODE_TRUNCATED',
  /** A schema id outside 0..2^32-1 was given to {@link encodeFrame}. */
  BAD_SCHEMA_ID: 'DECODE_BAD_SCHEMA_ID',
} as const;

/** A framed value split into its parts. `body` shares memory with the input buffer. */
export interface Frame {
  /** Registry schema id, 0..2^32-1. */
  readonly schemaId: number;
  /** Avro binary body (possibly empty: a record with no fields encodes to zero bytes). */
  readonly body: Buffer;
}

/**
 * Frames `avroBytes` with `schemaId`: returns a new buffer `0x00 | id (u32 BE) | avroBytes`.
 * Throws a non-retriable DecodeError (`DECODE_BAD_SCHEMA_ID`) if the id is not an integer in
 * 0..2^32-1, so a bad id never reaches Kafka.
 */
export function encodeFrame(schemaId: number, avroBytes: Uint8Array): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new DecodeError(`schema id must be an integer in 0..${MAX_SCHEMA_ID}, got ${String(schemaId)}`, {
      code: FRAMING_ERROR_CODES.BAD_SCHEMA_ID,
    });
  }
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + avroBytes.length);
  out[0] = MAGIC_BYTE;
  out.writeUInt32BE(schemaId, 1);
  out.set(avroBytes, FRAME_HEADER_LENGTH);
  return out;
}

/**
 * Splits a Confluent-framed value. Throws a non-retriable DecodeError with code
 * `DECODE_TRUNCATED` (shorter than 5 bytes) or `DECODE_BAD_MAGIC` (first byte not 0x00). Whether
 * the body is valid Avro is decided later, against the writer schema.
 */
export function parseFrame(buf: Uint8Array): Frame {
  const schemaId = frameSchemaId(buf);
  const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return { schemaId, body: view.subarray(FRAME_HEADER_LENGTH) };
}

/** The schema id of a Confluent-framed value; throws as {@link parseFrame} does. Allocates nothing. */
export function frameSchemaId(buf: Uint8Array): number {
  if (buf.length === 0) {
    throw new DecodeError('value is empty: expected a Confluent-framed Avro value (0x00, 4-byte schema id, body)', {
      code: FRAMING_ERROR_CODES.TRUNCATED,
    });
  }
  if (buf[0] !== MAGIC_BYTE) {
    throw new DecodeError(
      `value starts with byte 0x${(buf[0] ?? 0).toString(16).padStart(2, '0')}, not the Confluent magic byte 0x00: ` +
        'it was not written by a Schema Registry Avro serializer',
      { code: FRAMING_ERROR_CODES.BAD_MAGIC },
    );
  }
  if (buf.length < FRAME_HEADER_LENGTH) {
    throw new DecodeError(`value is ${buf.length} bytes long: a Confluent frame needs at least ${FRAME_HEADER_LENGTH}`, {
      code: FRAMING_ERROR_CODES.TRUNCATED,
    });
  }
  // Big-endian u32 (>>> 0 keeps ids of 2^31 and above positive).
  return ((buf[1]! << 24) | (buf[2]! << 16) | (buf[3]! << 8) | buf[4]!) >>> 0;
}
