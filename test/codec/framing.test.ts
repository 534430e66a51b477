import { decodeErrorCode as codeOf } from '../decode-error-code.js';
import { describe, expect, it } from 'vitest';
import { encodeFrame, parseFrame } from '../../src/codec/framing.js';
import { loadDebeziumFixture } from './fixture.js';

const fixture = loadDebeziumFixture();

describe('encodeFrame', () => {
  it('writes 0x00, the id big-endian, then the body (hand-computed vectors)', () => {
    expect(encodeFrame(6, Buffer.from([0x02, 0x0a])).toString('hex')).toBe('0000000006020a');
    expect(encodeFrame(0, Buffer.alloc(0)).toString('hex')).toBe('0000000000');
    expect(encodeFrame(0x01020304, Buffer.from([0xff])).toString('hex')).toBe('0001020304ff');
    expect(encodeFrame(0xffffffff, Buffer.from([])).toString('hex')).toBe('00ffffffff');
    expect(encodeFrame(256, new Uint8Array([1, 2, 3])).toString('hex')).toBe('0000000100010203');
  });

  it('refuses ids that do not fit 4 unsigned bytes', () => {
    for (const id of [-1, 2 ** 32, 1.5, Number.NaN]) {
      expect(codeOf(() => encodeFrame(id, Buffer.alloc(0)))).toBe('DECODE_BAD_SCHEMA_ID');
    }
  });
});

describe('parseFrame', () => {
  it('splits hand-computed vectors', () => {
    const frame = parseFrame(Buffer.from('0001020304ff00', 'hex'));
    expect(frame.schemaId).toBe(0x01020304);
    expect(frame.body.toString('hex')).toBe('ff00');
    expect(parseFrame(Buffer.from('00ffffffff', 'hex'))).toEqual({ schemaId: 0xffffffff, body: Buffer.alloc(0) });
    const fromUint8 = parseFrame(new Uint8Array([0, 0, 0, 0, 7, 9]));
    expect(fromUint8.schemaId).toBe(7);
    expect([...fromUint8.body]).toEqual([9]);
  });

  it('reads schema id 6 from every captured Debezium outbox record', () => {
    const outbox = fixture.records.filter((r) => r.decoded_schema_id !== null);
    expect(outbox.length).toBeGreaterThan(0);
    for (const record of outbox) {
      const bytes = Buffer.from(record.value_hex, 'hex');
      const frame = parseFrame(bytes);
      expect(frame.schemaId).toBe(6);
      expect(encodeFrame(frame.schemaId, frame.body).equals(bytes)).toBe(true);
    }
  });

  it('reports a wrong magic byte', () => {
    expect(codeOf(() => parseFrame(Buffer.from('{"ts_ms":1}')))).toBe('DECODE_BAD_MAGIC');
    expect(codeOf(() => parseFrame(Buffer.from([0x01, 0, 0, 0, 6])))).toBe('DECODE_BAD_MAGIC');
  });

  it('reports truncated values', () => {
    expect(codeOf(() => parseFrame(Buffer.alloc(0)))).toBe('DECODE_TRUNCATED');
    expect(codeOf(() => parseFrame(Buffer.from([0, 0, 0, 6])))).toBe('DECODE_TRUNCATED');
    expect(codeOf(() => parseFrame(Buffer.from([0])))).toBe('DECODE_TRUNCATED');
  });
});
