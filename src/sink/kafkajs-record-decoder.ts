/**
 * A leaner decoder of Kafka record batches for kafkajs 2.2.4 (the last kafkajs release; the
 * package is pinned to it). kafkajs decodes every record through a new Decoder over a copy-free
 * slice, 64-bit arithmetic on BigInt-backed Long objects for its timestamp and offset (several per
 * varint byte), and headers merged by spreading a new object per header. At the sink's rates
 * that is a fifth of its CPU and much of its garbage.
 *
 * This module replaces kafkajs' RecordBatch v0 decoder (the one its Fetch v4+ responses use) with
 * one that returns the same records, field for field: it reads each record in place with plain
 * number arithmetic, and hands any record outside the common case (a length, varint or 64-bit
 * value beyond what doubles hold exactly, a `__proto__` header, anything truncated) to kafkajs'
 * own record decoder, so odd input fails or decodes exactly as it would without this module.
 * test/sink/kafkajs-record-decoder.test.ts compares both decoders on generated and corrupted batches.
 *
 * The replacement goes into Node's module cache before kafkajs first loads its Fetch response
 * decoders (they load on the first fetch); {@link installRecordBatchDecoder} reports when that
 * is no longer possible or the installed kafkajs is another version, and nothing changes then.
 */
import { createRequire } from 'node:module';

/** The kafkajs version whose internals this module mirrors. */
export const KAFKAJS_VERSION = '2.2.4';

/** Outcome of {@link installRecordBatchDecoder}. */
export type RecordDecoderStatus =
  | 'installed'
  /** kafkajs is another version: its own decoder is used. */
  | 'unsupported-version'
  /** kafkajs already loaded its Fetch decoders in this process: its own decoder is used. */
  | 'too-late'
  /** Disabled by the caller: kafkajs' own decoder is used. */
  | 'disabled'
  /** kafkajs' internal modules could not be found (e.g. a bundled build): its own decoder is used. */
  | 'unavailable';

/** kafkajs' Decoder (src/protocol/decoder.js): the members this module uses. */
interface KafkaDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readVarIntBytes(): Buffer | null;
  readAll(): Buffer;
  slice(size: number): KafkaDecoder;
  forward(size: number): void;
}

type DecoderClass = new (buffer: Buffer) => KafkaDecoder;
type RecordContext = Record<string, unknown> & { readonly magicByte: number };
type RecordDecoderFn = (decoder: KafkaDecoder, context: RecordContext) => unknown;
type BatchDecoderFn = (fetchDecoder: KafkaDecoder) => Promise<unknown>;

/** What the replacement needs from kafkajs. */
interface KafkaInternals {
  readonly Decoder: DecoderClass;
  readonly decodeRecordV0: RecordDecoderFn;
  readonly lookupCodecByAttributes: (attributes: number) => { decompress(buffer: Buffer): Promise<Buffer> } | null;
  readonly KafkaJSPartialMessageError: new (message: string) => Error;
}

const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const TIMESTAMP_TYPE_FLAG_MASK = 0x08;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;

let status: RecordDecoderStatus | undefined;

/**
 * Puts the leaner RecordBatch decoder in place of kafkajs' own, once per process; later calls
 * return the first outcome. `enabled: false` (before any other call) keeps kafkajs' decoder.
 */
export function installRecordBatchDecoder(enabled = true): RecordDecoderStatus {
  if (status) return status;
  if (!enabled) return (status = 'disabled');
  try {
    return (status = install());
  } catch {
    return (status = 'unavailable');
  }
}

function install(): RecordDecoderStatus {
  const require = createRequire(import.meta.url);
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_VERSION) return 'unsupported-version';
  const resolve = (path: string): string => require.resolve(`kafkajs/src/protocol/${path}`);
  // The Fetch responses hold the batch decoder from the moment decodeMessages.js loads.
  if (require.cache[resolve('requests/fetch/v4/decodeMessages.js')]) return 'too-late';
  const batchPath = resolve('recordBatch/v0/decoder.js');
  require(batchPath);
  const cached = require.cache[batchPath];
  if (!cached) return 'unavailable';
  cached.exports = createRecordBatchDecoder(loadInternals(require, resolve));
  return 'installed';
}

/** kafkajs' own modules the replacement reuses. */
export function loadInternals(require: NodeJS.Require, resolve: (path: string) => string): KafkaInternals {
  return {
    Decoder: require(resolve('decoder.js')) as DecoderClass,
    decodeRecordV0: require(resolve('recordBatch/record/v0/decoder.js')) as RecordDecoderFn,
    lookupCodecByAttributes: (require(resolve('message/compression/index.js')) as Pick<KafkaInternals, 'lookupCodecByAttributes'>).lookupCodecByAttributes,
    KafkaJSPartialMessageError: (require(require.resolve('kafkajs')) as Pick<KafkaInternals, 'KafkaJSPartialMessageError'>).KafkaJSPartialMessageError,
  };
}

/**
 * kafkajs' RecordBatch v0 decoder (src/protocol/recordBatch/v0/decoder.js), statement for
 * statement, with the records read by {@link readRecord} where it can.
 */
export function createRecordBatchDecoder(kafka: KafkaInternals): BatchDecoderFn {
  const decodeOne = (decoder: KafkaDecoder, context: RecordContext): unknown =>
    kafka.decodeRecordV0(new kafka.Decoder(decoder.readVarIntBytes() as Buffer), context);

  /** Records of one batch from `decoder`'s position: `count` records, each length-prefixed. */
  const decodeRecordList = (decoder: KafkaDecoder, count: number, context: RecordContext): unknown[] => {
    const records = new Array<unknown>(count);
    const numbers = batchNumbers(context);
    for (let i = 0; i < count; i++) {
      const record = numbers ? readRecord(decoder, context, numbers) : undefined;
      records[i] = record ?? decodeOne(decoder, context);
    }
    buf = EMPTY; // do not keep the fetched bytes alive until the next batch
    return records;
  };

  return async (fetchDecoder) => {
    const firstOffset = fetchDecoder.readInt64().toString();
    const length = fetchDecoder.readInt32();
    const decoder = fetchDecoder.slice(length);
    fetchDecoder.forward(length);
    const remainingBytes = Buffer.byteLength(decoder.buffer);
    if (remainingBytes < length) {
      throw new kafka.KafkaJSPartialMessageError(
        `Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`,
      );
    }
    const partitionLeaderEpoch = decoder.readInt32();
    const magicByte = decoder.readInt8();
    decoder.readInt32(); // crc: not checked, as in kafkajs
    const attributes = decoder.readInt16();
    const lastOffsetDelta = decoder.readInt32();
    const firstTimestamp = decoder.readInt64().toString();
    const maxTimestamp = decoder.readInt64().toString();
    const producerId = decoder.readInt64().toString();
    const producerEpoch = decoder.readInt16();
    const firstSequence = decoder.readInt32();
    const inTransaction = (attributes & TRANSACTIONAL_FLAG_MASK) > 0;
    const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0;
    const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME;
    const codec = kafka.lookupCodecByAttributes(attributes);
    const recordContext = {
      firstOffset, firstTimestamp, partitionLeaderEpoch, inTransaction, isControlBatch, lastOffsetDelta,
      producerId, producerEpoch, firstSequence, maxTimestamp, timestampType,
    };
    const context: RecordContext = { ...recordContext, magicByte };
    // kafkajs: -1 (null) is no records uncompressed; a compressed batch of <= 0 records is empty.
    const count = decoder.readInt32();
    let records: unknown[];
    if (!codec) records = count === -1 ? [] : decodeRecordList(decoder, count, context);
    else if (count <= 0) records = [];
    else records = decodeRecordList(new kafka.Decoder(await codec.decompress(decoder.readAll())), count, context);
    return { ...recordContext, records };
  };
}

/** A batch's first offset and timestamp as numbers, when doubles hold them exactly. */
interface BatchNumbers {
  readonly firstOffset: number;
  /** Undefined when records take the batch's max timestamp (log append time). */
  readonly firstTimestamp: number | undefined;
}

function batchNumbers(context: RecordContext): BatchNumbers | undefined {
  const firstOffset = exactNumber(context.firstOffset);
  if (firstOffset === undefined) return undefined;
  const logAppend = context.timestampType === LOG_APPEND_TIME && Boolean(context.maxTimestamp);
  const firstTimestamp = logAppend ? undefined : exactNumber(context.firstTimestamp);
  if (!logAppend && firstTimestamp === undefined) return undefined;
  return { firstOffset, firstTimestamp };
}

/** The number a decimal string from kafkajs' Long names, when it is a safe integer. */
function exactNumber(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? n : undefined;
}

/** Cursor of {@link readRecord}: position in the buffer, or -1 once the common case is left. */
let pos = 0;
let end = 0;
const EMPTY = Buffer.alloc(0);
let buf: Buffer = EMPTY;

/**
 * kafkajs' Decoder.readVarInt (32-bit zig-zag, same arithmetic) within [pos, end); -1 sets pos
 * to -1 when it would read past `end` or needs a fifth byte (where kafkajs' shifts overflow).
 */
function varInt(): number {
  let result = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) return (pos = -1);
    const byte = buf[pos++]!;
    result += (byte & 0x7f) << shift;
    if (byte < 0x80) return (result >>> 1) ^ -(result & 1);
  }
  return (pos = -1);
}

/** kafkajs' Decoder.readVarLong as a number, up to 7 bytes (49 bits: exact in a double). */
function varLong(): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    if (pos >= end) return (pos = -1);
    const byte = buf[pos++]!;
    result += (byte & 0x7f) * scale;
    if (byte < 0x80) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    scale *= 128;
  }
  return (pos = -1);
}

/** kafkajs' readVarIntBytes within the record: null for -1, a view of the bytes otherwise. */
function bytes(): Buffer | null | undefined {
  const length = varInt();
  if (pos < 0) return undefined;
  if (length === -1) return null;
  if (length < 0 || pos + length > end) {
    pos = -1;
    return undefined;
  }
  const view = buf.subarray(pos, pos + length);
  pos += length;
  return view;
}

/**
 * One record as kafkajs' record v0 decoder returns it, read in place from `decoder`'s position
 * (whose offset then moves past the record), or undefined (offset unchanged) when the record
 * is outside the common case and kafkajs' decoder must read it.
 */
function readRecord(decoder: KafkaDecoder, context: RecordContext, numbers: BatchNumbers): object | undefined {
  buf = decoder.buffer;
  pos = decoder.offset;
  end = buf.length;
  const length = varInt();
  if (pos < 0 || length < 0 || pos + length > buf.length) return undefined;
  const start = pos;
  end = pos + length;
  if (pos >= end) return undefined;
  const attributes = buf.readInt8(pos++);
  const timestampDelta = varLong();
  if (pos < 0) return undefined;
  let timestamp: string;
  if (numbers.firstTimestamp === undefined) {
    timestamp = context.maxTimestamp as string;
  } else {
    const sum = numbers.firstTimestamp + timestampDelta;
    if (!Number.isSafeInteger(sum)) return undefined;
    timestamp = String(sum);
  }
  const offsetDelta = varInt();
  if (pos < 0) return undefined;
  const offsetSum = numbers.firstOffset + offsetDelta;
  if (!Number.isSafeInteger(offsetSum)) return undefined;
  const key = bytes();
  if (key === undefined) return undefined;
  const value = bytes();
  if (value === undefined) return undefined;
  const headers = readHeaders();
  if (!headers) return undefined;
  decoder.offset = start + length;
  return {
    magicByte: context.magicByte,
    attributes,
    timestamp,
    offset: String(offsetSum),
    key,
    value,
    headers,
    isControlRecord: context.isControlBatch,
    batchContext: context,
  };
}

/**
 * Headers merged as kafkajs merges them: the first value of a name as is, repeats into an array
 * in order. kafkajs reads the previous value with `obj[key]` on a plain object, so a header named
 * like an Object.prototype member (`constructor`) merges with that member; plain assignment
 * reproduces that, except for `__proto__`, which is left to kafkajs' decoder.
 */
function readHeaders(): Record<string, unknown> | undefined {
  const count = varInt();
  if (pos < 0 || count < -1) return undefined;
  const headers: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const keyLength = varInt();
    if (pos < 0 || keyLength < -1) return undefined;
    let key: string;
    if (keyLength === -1) {
      key = 'null';
    } else {
      if (pos + keyLength > end) return undefined;
      key = headerName(pos, keyLength);
      pos += keyLength;
    }
    if (key === '__proto__') return undefined;
    const value = bytes();
    if (value === undefined) return undefined;
    const previous = headers[key];
    headers[key] = previous === undefined ? value : Array.isArray(previous) ? previous.concat([value]) : [previous, value];
  }
  return headers;
}

/** Header names seen recently, by length (a record's few names repeat in every record). */
const NAMES: ({ readonly bytes: Buffer; readonly text: string } | undefined)[] = new Array(33);

/** The header name at `buf[at, at + length)` as kafkajs decodes it (UTF-8), reusing a recent equal string. */
function headerName(at: number, length: number): string {
  if (length > 32) return buf.toString('utf8', at, at + length);
  const known = NAMES[length];
  if (known) {
    let i = 0;
    while (i < length && known.bytes[i] === buf[at + i]) i++;
    if (i === length) return known.text;
  }
  const text = buf.toString('utf8', at, at + length);
  NAMES[length] = { bytes: Buffer.from(buf.subarray(at, at + length)), text };
  return text;
}
