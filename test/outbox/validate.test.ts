/** Pure validation and encoding of outbox events: no servers. */
import avro from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../../src/codec/framing.js';
import { InvalidOutboxEventError, OUTBOX_LIMITS, prepareOutboxEvent } from '../../src/outbox/validate.js';
import { userEvent, userSchema } from './fixtures.js';

describe('prepareOutboxEvent', () => {
  it('frames the Avro value with the schema id and fills id and occurredAt', () => {
    const event = prepareOutboxEvent(userEvent(1, 3), () => 1_700_000_000_123);
    expect(event).toMatchObject({ aggregateType: 'user', aggregateId: '1', type: 'UserChanged', version: 3n, occurredAtMs: 1_700_000_000_123 });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event.payload.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 6]));
    expect(userSchema.type.fromBuffer(event.payload.subarray(5))).toEqual({ id: 1, name: 'user 1', email: null, version: 3 });
  });

  it('matches the bytes Debezium delivered for the captured record 4a-single-event', () => {
    // test/fixtures/debezium-2.7.4-outbox/records.json, offset 0: value written with schema id 6.
    const event = prepareOutboxEvent(userEvent(1, 1, { value: { id: 1, name: 'Alice', email: 'alice@example.com', version: 1 } }));
    expect(event.payload.toString('hex')).toBe('0000000006020a416c6963650222616c696365406578616d706c652e636f6d02');
  });

  it('accepts the limits themselves', () => {
    const max = prepareOutboxEvent(userEvent(1, OUTBOX_LIMITS.maxVersion, {
      aggregateType: 'a'.repeat(64),
      schema: { ...userSchema, subject: `outbox.event.${'a'.repeat(64)}-value` },
      aggregateId: '😀'.repeat(255),
      type: 'T'.repeat(128),
      occurredAt: new Date(Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
      id: '0b3a1f4e-8c2d-4e5f-9a6b-7c8d9e0f1a2b',
      value: { id: 1, name: '', email: null, version: 1 },
    }));
    expect(max.version).toBe(2n ** 63n - 1n);
    expect(max.id).toBe('0b3a1f4e-8c2d-4e5f-9a6b-7c8d9e0f1a2b');
    expect(prepareOutboxEvent(userEvent(1, Number.MAX_SAFE_INTEGER, { value: { id: 1, name: '', email: null, version: 1 } })).version).toBe(9007199254740991n);
  });

  it('reports every problem at once, naming each field, without echoing values', () => {
    let err: unknown;
    try {
      prepareOutboxEvent(userEvent(1, 0, { aggregateId: '', value: { id: 1, name: 'secret-name', email: 7, version: 'x' } }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOutboxEventError);
    const problems = (err as InvalidOutboxEventError).problems.map((p) => p.field);
    expect(problems).toEqual(['aggregateId', 'version', 'value.email', 'value.version']);
    expect((err as InvalidOutboxEventError).field).toBe('aggregateId');
    expect((err as Error).message).toContain('value.email: expected null | string, got number');
    expect((err as Error).message).not.toContain('secret-name');
    expect((err as InvalidOutboxEventError).retriable).toBe(false);
  });

  it('names nested paths (undeclared fields too) and refuses a schema id outside 0..2^32-1 and a non-schema', () => {
    const nested = {
      ...userSchema,
      type: avro.Type.forSchema({ type: 'record', name: 'N', fields: [{ name: 'tags', type: { type: 'array', items: 'string' } }] }),
    };
    expect(() => prepareOutboxEvent(userEvent(1, 1, { schema: nested, value: { tags: ['a', 2] } }))).toThrow(/value\.tags\.1: expected string/);
    const inner = {
      ...userSchema,
      type: avro.Type.forSchema({ type: 'record', name: 'O', fields: [{ name: 'in', type: { type: 'record', name: 'I', fields: [{ name: 'q', type: 'int' }] } }] }),
    };
    expect(() => prepareOutboxEvent(userEvent(1, 1, { schema: inner, value: { in: { q: 1, qq: 2 } } }))).toThrow(/value\.in: has fields the schema does not declare: qq/);
    expect(() => prepareOutboxEvent(userEvent(1, 1, { schema: { ...userSchema, id: 2 ** 32 } }))).toThrow(/schema\.id/);
    expect(() => prepareOutboxEvent(userEvent(1, 1, { schema: {} as typeof userSchema }))).toThrow(/schema: must be a WriterSchema/);
    expect(() => prepareOutboxEvent(null as never)).toThrow(InvalidOutboxEventError);
  });

  it('refuses payloads that would not fit MEDIUMBLOB', () => {
    const blob = { ...userSchema, type: avro.Type.forSchema({ type: 'record', name: 'B', fields: [{ name: 'b', type: 'bytes' }] }) };
    expect(() => prepareOutboxEvent(userEvent(1, 1, { schema: blob, value: { b: Buffer.alloc(OUTBOX_LIMITS.payloadBytes) } }))).toThrow(/value: encodes to/);
  });

  it('round-trips any valid user event through the framed payload', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 255, unit: 'grapheme' }).filter((s) => [...s].length <= 255),
        fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }),
        fc.string(),
        fc.option(fc.string(), { nil: null }),
        (aggregateId, version, name, email) => {
          const value = { id: 5, name, email, version: 1 };
          const event = prepareOutboxEvent(userEvent(5, version, { aggregateId, value }));
          const frame = parseFrame(event.payload);
          expect(frame.schemaId).toBe(6);
          expect(userSchema.type.fromBuffer(frame.body)).toEqual(value);
          expect(event.version).toBe(version);
          expect(event.aggregateId).toBe(aggregateId);
        },
      ),
      { numRuns: 200 },
    );
  });
});
