import { readFileSync } from 'node:fs';
import { decodeErrorCode as codeOf } from '../decode-error-code.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeError } from '../../src/errors.js';
import { lastHeader, parseOutboxRecord as parseRecord, parseVersion, type KafkaRecord } from '../../src/sink/record.js';

const parseOutboxRecord = (r: Rec) => parseRecord(r.topic, r);

interface FixtureRecord {
  topic: string; timestamp: number; key_hex: string; value_hex: string; headers: [string, string][]; scenario: string;
}
const fixture = JSON.parse(
  readFileSync(new URL('../../../shared/fixtures/debezium-2.7.4-outbox/records.json', import.meta.url), 'utf8'),
) as { records: FixtureRecord[] };

type Rec = KafkaRecord & { topic: string };
function record(overrides: Partial<Rec> = {}): Rec {
  return {
    topic: 'outbox.event.user', key: Buffer.from('42'), value: Buffer.from([0, 0, 0, 0, 1, 2]), timestamp: '1700000000123',
    headers: { id: Buffer.from('0b6a3c8e-5e53-4f0f-9df5-0a7f2d6b5c11'), type: Buffer.from('UserChanged'), version: Buffer.from('7') },
    ...overrides,
  };
}

describe('parseOutboxRecord', () => {
  it('parses the records captured from Debezium 2.7.4 and ignores its heartbeats', () => {
    const parsed = fixture.records.map((r) =>
      parseRecord(r.topic, {
        key: Buffer.from(r.key_hex, 'hex'), value: Buffer.from(r.value_hex, 'hex'), timestamp: String(r.timestamp),
        headers: Object.fromEntries(r.headers.map(([k, v]) => [k, Buffer.from(v, 'hex')])),
      }),
    );
    const heartbeats = fixture.records.filter((r) => r.scenario === 'heartbeat').length;
    expect(heartbeats).toBeGreaterThan(0);
    expect(parsed.filter((p) => p.kind === 'ignored')).toHaveLength(heartbeats);
    const first = parsed[0];
    expect(first?.kind).toBe('event');
    if (first?.kind !== 'event') return;
    expect(first.event).toEqual({
      id: '870541eb-27db-4939-8c4f-ce524a709eb4', aggregateType: 'user', aggregateId: '1', type: 'UserChanged',
      version: 1n, occurredAtMs: 1795354211739, payload: Buffer.from(fixture.records[0]!.value_hex, 'hex'),
    });
  });

  it('takes the last value of a repeated header', () => {
    const parsed = parseOutboxRecord(record({ headers: { id: 'a', type: ['X', 'Y'], version: [Buffer.from('3'), Buffer.from('9')] } }));
    expect(parsed.kind === 'event' && [parsed.event.type, parsed.event.version]).toEqual(['Y', 9n]);
    expect(lastHeader({ h: [] }, 'h')).toBeUndefined();
  });

  it('refuses records that can never be applied, each with its own code', () => {
    expect(codeOf(() => parseOutboxRecord(record({ headers: { id: 'a', type: 't' } })))).toBe('RECORD_MISSING_VERSION');
    expect(codeOf(() => parseOutboxRecord(record({ headers: { id: 'a', type: 't', version: 'x1' } })))).toBe('RECORD_BAD_VERSION');
    expect(codeOf(() => parseOutboxRecord(record({ headers: { type: 't', version: '1' } })))).toBe('RECORD_MISSING_HEADER');
    expect(codeOf(() => parseOutboxRecord(record({ key: null })))).toBe('RECORD_MISSING_KEY');
    expect(codeOf(() => parseOutboxRecord(record({ value: null })))).toBe('RECORD_MISSING_VALUE');
    expect(codeOf(() => parseOutboxRecord(record({ topic: 'outbox.event.us-er' })))).toBe('RECORD_UNROUTABLE');
    expect(codeOf(() => parseOutboxRecord(record({ topic: 'app.outbox.event.user' })))).toBe('RECORD_UNROUTABLE');
    expect(codeOf(() => parseOutboxRecord(record({ key: Buffer.from([0xff, 0xfe]) })))).toBe('RECORD_BAD_UTF8');
  });

  it('keeps a leading byte order mark in keys and headers', () => {
    const bom = parseOutboxRecord(record({ key: Buffer.from('\uFEFF42', 'utf8'), headers: { id: 'a', type: Buffer.from('\uFEFFT\u00e9', 'utf8'), version: '1' } }));
    const plain = parseOutboxRecord(record({ key: Buffer.from('42', 'utf8') }));
    if (bom.kind !== 'event' || plain.kind !== 'event') throw new Error('not parsed');
    expect([bom.event.aggregateId, bom.event.type]).toEqual(['\uFEFF42', '\uFEFFT\u00e9']);
    expect(bom.event.aggregateId).not.toBe(plain.event.aggregateId);
  });

  it('ignores only internal topics', () => {
    expect(parseOutboxRecord(record({ topic: '__debezium-heartbeat.app', headers: {} })).kind).toBe('ignored');
  });
});

describe('parseVersion', () => {
  it('accepts exactly the decimal integers 1 .. 2^63-1', () => {
    expect(parseVersion('1')).toBe(1n);
    expect(parseVersion('9223372036854775807')).toBe(2n ** 63n - 1n);
    for (const bad of ['0', '-1', '+1', '01', ' 1', '1 ', '1.0', '1e3', '', '9223372036854775808', '99999999999999999999']) {
      expect(codeOf(() => parseVersion(bad)), bad).toBe('RECORD_BAD_VERSION');
    }
  });
});

describe('the version header', () => {
  it('reads a version header given as bytes exactly as parseVersion reads its text', () => {
    const outcome = (f: () => ReturnType<typeof parseOutboxRecord>): unknown => {
      try {
        const parsed = f();
        return parsed.kind === 'event' ? parsed.event.version : parsed.kind;
      } catch (err) {
        return `${(err as DecodeError).code}: ${(err as DecodeError).message}`;
      }
    };
    const text = fc.oneof(
      fc.stringMatching(/^[0-9]{1,20}$/),
      fc.bigInt({ min: 0n, max: 2n ** 64n }).map(String),
      fc.constantFrom('0', '007', '1', '999999999999999', '1000000000000000', '9223372036854775807', '9223372036854775808', '', ' 1', '1 ', '+1', '-1', '1e3', '٣'),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(fc.property(text, (version) => {
      const asText = outcome(() => parseOutboxRecord(record({ headers: { id: 'a', type: 't', version } })));
      const asBytes = outcome(() => parseOutboxRecord(record({ headers: { id: 'a', type: 't', version: Buffer.from(version, 'utf8') } })));
      expect(asBytes).toEqual(asText);
    }), { numRuns: 2000 });
  });
});

describe('UTF-8 keys and headers', () => {
  it('decodes non-ASCII keys and type headers as UTF-8', () => {
    const parsed = parseOutboxRecord(record({ key: Buffer.from('üser-42', 'utf8'), headers: { id: 'a', type: Buffer.from('Änderung', 'utf8'), version: '1' } }));
    expect(parsed.kind === 'event' && [parsed.event.aggregateId, parsed.event.type]).toEqual(['üser-42', 'Änderung']);
  });
});
