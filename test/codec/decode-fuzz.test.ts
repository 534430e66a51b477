/**
 * Property tests: decoding arbitrary or damaged bytes never throws anything but the project's
 * typed errors, never hangs, never takes the process down.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAvroSchema, type AvroSchema } from '../../src/codec/avro-types.js';
import { CACHE_CHANGE_SCHEMA_V1 } from '../../src/codec/cache-change.js';
import { AvroCodec } from '../../src/codec/codec.js';
import { encodeFrame, parseFrame } from '../../src/codec/framing.js';
import { SchemaRegistryClient } from '../../src/codec/registry-client.js';
import { DecodeError, OutboxCacheError, SchemaError } from '../../src/errors.js';
import { fixtureSchemas, startSchemaRegistryDouble, type SchemaRegistryDouble } from '../registry-double/schema-registry-double.js';
import { loadDebeziumFixture } from './fixture.js';

const USER = 'outbox.event.user-value';
const USER_V2 = readFileSync(new URL('../../schemas/avro/com.example.users.UserChanged.v2.avsc', import.meta.url), 'utf8');
/** Every kind of Avro type, nested, recursive: the shapes where a decoder can loop or over-allocate. */
const NASTY = {
  type: 'record',
  name: 'Nasty',
  namespace: 'fuzz',
  fields: [
    { name: 'nulls', type: { type: 'array', items: 'null' } },
    { name: 'nested', type: { type: 'map', values: { type: 'array', items: ['null', 'string', 'long'] } } },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
    { name: 'next', type: ['null', 'Nasty'], default: null },
    { name: 'blob', type: 'bytes' },
    { name: 'ratio', type: 'double' },
  ],
};
const SUBJECTS: Record<number, string> = { 6: USER, 7: 'outbox.event.product-value', 8: 'outbox.event.nasty-value' };

let registry: SchemaRegistryDouble;
let codec: AvroCodec;
beforeAll(async () => {
  registry = await startSchemaRegistryDouble({
    preload: [
      ...fixtureSchemas(loadDebeziumFixture()),
      { id: 7, subject: SUBJECTS[7] as string, schema: CACHE_CHANGE_SCHEMA_V1 },
      { id: 8, subject: SUBJECTS[8] as string, schema: NASTY },
    ],
  });
  codec = new AvroCodec({ registry: new SchemaRegistryClient({ url: registry.url }) });
});
afterAll(() => registry.close());

/** Decodes and returns the outcome; anything thrown that is not a typed project error fails the test. */
async function outcome(bytes: Buffer, subject: string, reader?: string): Promise<'ok' | string> {
  try {
    await codec.decode(bytes, reader === undefined ? { subject } : { subject, reader });
    return 'ok';
  } catch (err) {
    if (!(err instanceof DecodeError || err instanceof SchemaError)) throw err;
    expect((err as OutboxCacheError).retriable).toBe(false);
    return (err as OutboxCacheError).code;
  }
}

const knownId = fc.constantFrom(6, 7, 8);

/** A deterministic PRNG in [0, 1) (mulberry32) from a fast-check seed. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid value of the NASTY schema, nested at most `maxDepth` levels through `next`. */
function nastyValue(random: () => number, depth = 0, maxDepth = 3): unknown {
  const count = (max: number) => Math.floor(random() * (max + 1));
  const item = (): unknown => [null, 'x'.repeat(count(4)), count(1000)][count(2)];
  return {
    nulls: Array.from({ length: count(3) }, () => null),
    nested: Object.fromEntries(Array.from({ length: count(3) }, (_, i) => [`k${i}`, Array.from({ length: count(3) }, item)])),
    kind: random() < 0.5 ? 'A' : 'B',
    hash: Buffer.from([count(255), count(255), count(255), count(255)]),
    next: depth < maxDepth && random() < 0.5 ? nastyValue(random, depth + 1, maxDepth) : null,
    blob: Buffer.from(Array.from({ length: count(6) }, () => count(255))),
    ratio: random(),
  };
}
const body = fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b));

describe('decode of random bytes', () => {
  it('parseFrame throws only DecodeError', () => {
    fc.assert(
      fc.property(body, (bytes) => {
        try {
          parseFrame(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary bytes give a value or a typed, non-retriable error', async () => {
    await fc.assert(
      fc.asyncProperty(body, knownId, async (bytes, id) => {
        await outcome(bytes, SUBJECTS[id] as string);
      }),
      { numRuns: 300 },
    );
  });

  it('random bodies behind a valid header of every known schema, also through a reader schema', async () => {
    await fc.assert(
      fc.asyncProperty(knownId, body, fc.boolean(), async (id, bytes, resolve) => {
        const framed = encodeFrame(id, bytes);
        await outcome(framed, SUBJECTS[id] as string, resolve && id === 6 ? USER_V2 : undefined);
      }),
      { numRuns: 1500 },
    );
  });

  it('damaged valid encodings (flipped, cut, extended bytes)', async () => {
    const userV1 = fixtureSchemas(loadDebeziumFixture())[0]?.schema as AvroSchema;
    const types = { 6: parseAvroSchema(userV1), 7: parseAvroSchema(CACHE_CHANGE_SCHEMA_V1), 8: parseAvroSchema(NASTY as AvroSchema) };
    const damage = fc.record({
      seed: fc.integer(),
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
      cut: fc.nat({ max: 8 }),
      extra: fc.uint8Array({ maxLength: 8 }),
    });
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(knownId, damage, async (id, { seed, flips, cut, extra }) => {
        const type = types[id as 6 | 7 | 8];
        // avsc's random() recurses without bound on the recursive Nasty schema: build those values
        // from the property's own seed with a depth limit, so a run is reproducible.
        const valid = type.toBuffer(id === 8 ? nastyValue(seededRandom(seed)) : type.random());
        const bytes = Buffer.concat([valid.subarray(0, Math.max(0, valid.length - cut)), Buffer.from(extra)]);
        for (const { at, value } of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
        outcomes.add(await outcome(encodeFrame(id, bytes), SUBJECTS[id] as string));
      }),
      { numRuns: 1500 },
    );
    // The generator must reach both outcomes, or the property proves nothing.
    expect(outcomes.has('ok')).toBe(true);
    expect(outcomes.has('DECODE_INVALID_AVRO')).toBe(true);
  });
});
