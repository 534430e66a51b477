/**
 * The sink's RecordBatch decoder returns exactly what kafkajs' own decoder returns: the same
 * records, field for field and in the same key order, for generated batches (compressed or not,
 * control and transactional batches, log-append time, null keys and values, repeated and odd
 * header names, deltas and offsets beyond 2^53) and the same records or the same error for
 * corrupted and truncated ones. It takes kafkajs' place only in a process where kafkajs has not
 * fetched yet.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KAFKAJS_VERSION, createRecordBatchDecoder, loadInternals } from '../../src/sink/kafkajs-record-decoder.js';

const require = createRequire(import.meta.url);
const resolve = (path: string): string => require.resolve(`kafkajs/src/protocol/${path}`);
const internals = loadInternals(require, resolve);
type BatchDecoder = (decoder: InstanceType<typeof internals.Decoder>) => Promise<unknown>;

/** kafkajs' own batch decoder, loaded afresh in case the sink's replaced it in this process. */
function kafkajsBatchDecoder(): BatchDecoder {
  const path = resolve('recordBatch/v0/decoder.js');
  const cached = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as BatchDecoder;
  } finally {
    if (cached) require.cache[path] = cached;
  }
}
const original = kafkajsBatchDecoder();
const lean = createRecordBatchDecoder(internals);

// ---- a raw Kafka record batch writer (v2 format), independent of both decoders ----

function varLong(value: bigint): number[] {
  let zigzag = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  const out: number[] = [];
  do {
    const byte = Number(zigzag & 0x7fn);
    zigzag >>= 7n;
    out.push(zigzag > 0n ? byte | 0x80 : byte);
  } while (zigzag > 0n);
  return out;
}
const varInt = (value: number): number[] => varLong(BigInt(value));
const bytesField = (b: Uint8Array | null): number[] => (b === null ? varInt(-1) : [...varInt(b.length), ...b]);

interface RecordModel {
  readonly timestampDelta: bigint;
  readonly offsetDelta: number;
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly { readonly key: string | null; readonly value: Uint8Array | null }[];
}

interface BatchModel {
  readonly firstOffset: bigint;
  readonly firstTimestamp: bigint;
  readonly maxTimestamp: bigint;
  readonly attributes: number;
  readonly records: readonly RecordModel[];
}

function recordBytes(r: RecordModel): number[] {
  const headers = r.headers.flatMap((h) => [...(h.key === null ? varInt(-1) : bytesField(Buffer.from(h.key))), ...bytesField(h.value)]);
  const body = [0, ...varLong(r.timestampDelta), ...varInt(r.offsetDelta), ...bytesField(r.key), ...bytesField(r.value), ...varInt(r.headers.length), ...headers];
  return [...varInt(body.length), ...body];
}

function batchBytes(b: BatchModel): Buffer {
  const records = Buffer.from(b.records.flatMap(recordBytes));
  const gzip = (b.attributes & 0x07) === 1;
  const tail = Buffer.alloc(4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4);
  let o = 4; // crc, not checked
  o = tail.writeInt16BE(b.attributes, o);
  o = tail.writeInt32BE(Math.max(0, b.records.length - 1), o);
  o = tail.writeBigInt64BE(b.firstTimestamp, o);
  o = tail.writeBigInt64BE(b.maxTimestamp, o);
  o = tail.writeBigInt64BE(-1n, o);
  o = tail.writeInt16BE(-1, o);
  o = tail.writeInt32BE(-1, o);
  tail.writeInt32BE(b.records.length, o);
  const body = Buffer.concat([Buffer.from([0, 0, 0, 0, 2]), tail, gzip ? gzipSync(records) : records]);
  const head = Buffer.alloc(12);
  head.writeBigInt64BE(b.firstOffset, 0);
  head.writeInt32BE(body.length, 8);
  return Buffer.concat([head, body]);
}

// ---- comparison ----

/** Everything observable about a decoded value, key order and Buffer-ness included. */
function describeValue(value: unknown, seen = new Set<unknown>()): string {
  if (Buffer.isBuffer(value)) return `Buffer<${value.toString('hex')}>`;
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? String(value);
  if (seen.has(value)) return '<shared>';
  seen.add(value);
  if (Array.isArray(value)) return `[${value.map((v) => describeValue(v, seen)).join(',')}]`;
  const proto = Object.getPrototypeOf(value) === Object.prototype ? '' : 'proto!';
  return `${proto}{${Object.keys(value).map((k) => `${JSON.stringify(k)}:${describeValue((value as Record<string, unknown>)[k], seen)}`).join(',')}}`;
}

async function outcome(decode: BatchDecoder, bytes: Buffer): Promise<string> {
  const decoder = new internals.Decoder(bytes);
  try {
    const batch = await decode(decoder);
    return `ok ${describeValue(batch)} at ${decoder.offset}`;
  } catch (err) {
    return `error ${(err as Error).name}: ${(err as Error).message}`;
  }
}

async function expectSameOutcome(bytes: Buffer): Promise<void> {
  expect(await outcome(lean, bytes)).toBe(await outcome(original, bytes));
}

/**
 * True when a record of an uncompressed batch declares more than 2,000 headers. kafkajs reads
 * headers past the end of a record as empty ones without failing, so such a count makes it
 * allocate (and merge them, quadratically) until the process runs out of memory or time.
 */
function declaresHugeHeaderCount(bytes: Buffer): boolean {
  if (bytes.length < 61 || (bytes.readInt16BE(21) & 0x07) !== 0) return false;
  // Walks the records with kafkajs' own Decoder, so lengths are read exactly as kafkajs reads them.
  const records = new internals.Decoder(bytes.subarray(61)) as InstanceType<typeof internals.Decoder> & {
    readVarInt(): number; readVarLong(): unknown;
  };
  try {
    while (records.offset < bytes.length - 61) {
      const record = new internals.Decoder(records.readVarIntBytes() ?? Buffer.alloc(0)) as typeof records;
      record.readInt8();
      record.readVarLong();
      record.readVarInt();
      record.readVarIntBytes();
      record.readVarIntBytes();
      if (record.readVarInt() > 2000) return true;
    }
  } catch {
    // kafkajs fails on this record before reading its headers
  }
  return false;
}

// ---- generators ----

const bytes = fc.oneof(fc.constant(null), fc.uint8Array({ maxLength: 40 }));
const headerKey = fc.oneof(
  fc.constantFrom('id', 'type', 'version', 'constructor', 'toString', '__proto__', 'hasOwnProperty', '0', '7', ''),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constant(null),
);
const record: fc.Arbitrary<RecordModel> = fc.record({
  timestampDelta: fc.oneof(fc.bigInt({ min: -1000n, max: 100_000n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  offsetDelta: fc.oneof(fc.nat(10_000), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  key: bytes,
  value: bytes,
  headers: fc.array(fc.record({ key: headerKey, value: bytes }), { maxLength: 6 }),
});
const int64 = fc.oneof(fc.bigInt({ min: -1n, max: 2n ** 40n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
const batch: fc.Arbitrary<BatchModel> = fc.record({
  firstOffset: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 53n }), fc.bigInt({ min: 2n ** 53n - 100n, max: 2n ** 63n - 1n })),
  firstTimestamp: int64,
  maxTimestamp: int64,
  // compression none or gzip; timestamp type, transactional and control bits
  attributes: fc.tuple(fc.constantFrom(0, 1), fc.boolean(), fc.boolean(), fc.boolean())
    .map(([codec, logAppend, txn, control]) => codec | (logAppend ? 0x08 : 0) | (txn ? 0x10 : 0) | (control ? 0x20 : 0)),
  records: fc.array(record, { maxLength: 12 }),
});

describe('the sink RecordBatch decoder', () => {
  it(`mirrors kafkajs ${KAFKAJS_VERSION}, the version installed`, () => {
    expect((require('kafkajs/package.json') as { version: string }).version).toBe(KAFKAJS_VERSION);
  });

  it('takes the place of kafkajs\' decoder in a fresh process, unless disabled or kafkajs already fetched', () => {
    // Each case in a new Node process: the replacement is process-wide.
    const run = (before: string, call: string): string => execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/package.json');
      ${before}
      const { installRecordBatchDecoder } = await import('./src/sink/kafkajs-record-decoder.ts');
      const status = ${call};
      const used = require('kafkajs/src/protocol/recordBatch/v0/decoder.js').toString().includes('decodeRecordList') ? 'lean' : 'kafkajs';
      console.log(status, used);
    `], { encoding: 'utf8' }).trim();
    expect(run('', 'installRecordBatchDecoder()')).toBe('installed lean');
    expect(run('', '[installRecordBatchDecoder(), installRecordBatchDecoder(false)].join()')).toBe('installed,installed lean');
    expect(run('', 'installRecordBatchDecoder(false)')).toBe('disabled kafkajs');
    // What kafkajs loads on its first fetch holds on to its own decoder.
    expect(run("require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js');", 'installRecordBatchDecoder()')).toBe('too-late kafkajs');
  });

  it('decodes a typical Debezium batch exactly as kafkajs does', async () => {
    const headers = (v: string) => [
      { key: 'id', value: Buffer.from('6f1c3a52-6c1e-4c4e-9c89-0d1c6d6a2b11') },
      { key: 'type', value: Buffer.from('UserChanged') },
      { key: 'version', value: Buffer.from(v) },
    ];
    const bytes = batchBytes({
      firstOffset: 41n, firstTimestamp: 1_732_000_000_000n, maxTimestamp: 1_732_000_000_009n, attributes: 0,
      records: [1, 2, 3].map((i) => ({ timestampDelta: BigInt(i * 3), offsetDelta: i - 1, key: Buffer.from(`u${i}`), value: Buffer.from([0, 0, 0, 0, 1, i]), headers: headers(String(i)) })),
    });
    const decoded = (await lean(new internals.Decoder(bytes))) as { records: { offset: string; timestamp: string; headers: Record<string, Buffer> }[] };
    expect(decoded.records.map((r) => [r.offset, r.timestamp, r.headers.version?.toString()])).toEqual([
      ['41', '1732000000003', '1'], ['42', '1732000000006', '2'], ['43', '1732000000009', '3'],
    ]);
    await expectSameOutcome(bytes);
  });

  it('keeps repeated headers in order, as arrays, like kafkajs', async () => {
    const bytes = batchBytes({
      firstOffset: 0n, firstTimestamp: 0n, maxTimestamp: 0n, attributes: 0,
      records: [{ timestampDelta: 0n, offsetDelta: 0, key: null, value: null, headers: ['1', '2', '3'].map((v) => ({ key: 'version', value: Buffer.from(v) })) }],
    });
    const decoded = (await lean(new internals.Decoder(bytes))) as { records: { headers: Record<string, Buffer[]> }[] };
    expect(decoded.records[0]!.headers.version!.map(String)).toEqual(['1', '2', '3']);
    await expectSameOutcome(bytes);
  });

  it('returns what kafkajs returns for any generated batch', async () => {
    await fc.assert(fc.asyncProperty(batch, async (model) => expectSameOutcome(batchBytes(model))), { numRuns: 400 });
  });

  it('fails or decodes like kafkajs on corrupted and truncated batches', async () => {
    const corrupted = fc.tuple(batch, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()))
      .map(([model, flips, cut]) => {
        const bytes = batchBytes(model);
        // Leave the first 12 bytes (offset and length) and the header alone half the time, to reach the records.
        const from = flips.length % 2 === 0 ? 61 : 0;
        for (const [at, byte] of flips) if (bytes.length > from) bytes[from + (at % (bytes.length - from))] = byte;
        return cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
      });
    await fc.assert(fc.asyncProperty(corrupted, async (bytes) => {
      // kafkajs itself (and so both decoders) runs out of memory on these; nothing to compare.
      fc.pre(!declaresHugeHeaderCount(bytes));
      await expectSameOutcome(bytes);
    }), { numRuns: 600 });
  });
});
