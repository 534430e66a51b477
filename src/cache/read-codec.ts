/** How the read path turns cached bytes into values and back. Pure. */

/** Codec names accepted by the read paths. */
export type ReadCodecName = 'json' | 'bytes';

/** The value type of a codec: JSON values are whatever the loader returns; bytes are Buffers. */
export type CodecValue<C extends ReadCodecName> = C extends 'bytes' ? Buffer : unknown;

/** Encodes values to the bytes stored in an entry, and back. */
export interface ValueCodec<T> {
  encode(value: T): Buffer;
  decode(data: Buffer): T;
}

const JSON_CODEC: ValueCodec<unknown> = {
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
  decode: (data) => JSON.parse(data.toString('utf8')) as unknown,
};

const BYTES_CODEC: ValueCodec<Buffer> = {
  encode: (value) => value,
  // Copy: the slice would otherwise keep the whole reply buffer alive.
  decode: (data) => Buffer.from(data),
};

/** The codec named `name`. */
export function readCodec(name: ReadCodecName): ValueCodec<unknown> | ValueCodec<Buffer> {
  return name === 'bytes' ? BYTES_CODEC : JSON_CODEC;
}
