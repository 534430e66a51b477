/**
 * How the read path turns cached bytes into values and back. Pure.
 *
 * A miss returns the codec's round trip of the loaded value (decode(encode(value))), so a hit and
 * a miss return the same shape: with `json`, a Date comes back as its ISO string both times, a
 * Map as {}, undefined properties are dropped. A value the codec cannot encode (a BigInt, a
 * cycle) is returned as loaded and not cached.
 */
import { ConfigError } from '../errors.js';

/** Codec names accepted by the read paths. */
export type ReadCodecName = 'json' | 'bytes';

/** The value type of a codec: JSON values are whatever the loader returns; bytes are Buffers. */
export type CodecValue<C extends ReadCodecName> = C extends 'bytes' ? Buffer : unknown;

/** Encodes values to the bytes stored in an entry, and back. */
export interface ValueCodec<T> {
  /** Throws when the value cannot be stored. */
  encode(value: T): Buffer;
  decode(data: Buffer): T;
}

const JSON_CODEC: ValueCodec<unknown> = {
  encode: (value) => {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) throw new TypeError(`a ${typeof value} has no JSON form`);
    return Buffer.from(text, 'utf8');
  },
  decode: (data) => JSON.parse(data.toString('utf8')) as unknown,
};

const BYTES_CODEC: ValueCodec<Buffer> = {
  encode: (value) => {
    if (!Buffer.isBuffer(value)) throw new TypeError('the bytes codec stores Buffers only');
    return value;
  },
  // Copy: the slice would otherwise keep the whole reply buffer alive.
  decode: (data) => Buffer.from(data),
};

const CODECS: Readonly<Record<ReadCodecName, ValueCodec<unknown> | ValueCodec<Buffer>>> = { json: JSON_CODEC, bytes: BYTES_CODEC };

/** The codec named `name`; throws ConfigError (setting `codec`) for any other name. */
export function readCodec(name: ReadCodecName): ValueCodec<unknown> | ValueCodec<Buffer> {
  const codec = Object.hasOwn(CODECS, name) ? CODECS[name] : undefined;
  if (!codec) throw new ConfigError([{ setting: 'codec', message: `must be 'json' or 'bytes', got ${JSON.stringify(name)}` }]);
  return codec;
}
