import { describe, expect, it } from 'vitest';
import { RelayError } from '../../src/relay/errors.js';
import { rowToOutboxEvent } from '../../src/relay/outbox-row.js';

const ID = '870541eb-27db-4939-8c4f-ce524a709eb4';
function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: ID, aggregatetype: 'user', aggregateid: 'ü-1', type: 'UserChanged', version: 7,
    occurred_at: '2026-11-22 18:53:17.123', payload: Buffer.from([0, 0, 0, 0, 6, 2]), ...overrides,
  };
}

function refusal(overrides: Record<string, unknown>): string {
  try {
    rowToOutboxEvent(row(overrides));
  } catch (err) {
    expect(err).toBeInstanceOf(RelayError);
    expect((err as RelayError).code).toBe('RELAY_INVALID_ROW');
    expect((err as RelayError).retriable).toBe(false);
    return (err as Error).message;
  }
  throw new Error('row was accepted');
}

describe('rowToOutboxEvent', () => {
  it('maps every column exactly', () => {
    expect(rowToOutboxEvent(row())).toEqual({
      id: ID, aggregateType: 'user', aggregateId: 'ü-1', type: 'UserChanged', version: 7n,
      occurredAtMs: Date.UTC(2026, 10, 22, 18, 53, 17, 123), payload: Buffer.from([0, 0, 0, 0, 6, 2]),
    });
  });

  it('keeps versions beyond 2^53 exact (the decoder gives them as decimal text)', () => {
    expect(rowToOutboxEvent(row({ version: '9007199254740993' })).version).toBe(9007199254740993n);
    expect(rowToOutboxEvent(row({ version: '9223372036854775807' })).version).toBe(2n ** 63n - 1n);
  });

  it('refuses versions outside [1, 2^63-1] and inexact numbers', () => {
    for (const version of [0, -1, '0', '9223372036854775808', 1.5, 2 ** 53, null, '12a']) {
      expect(refusal({ version })).toMatch(/version/);
    }
  });

  it('reads DATETIME text as UTC, with or without a fraction, truncating below a millisecond', () => {
    expect(rowToOutboxEvent(row({ occurred_at: '2026-01-02 03:04:05' })).occurredAtMs).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(rowToOutboxEvent(row({ occurred_at: '2026-01-02 03:04:05.5' })).occurredAtMs).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 500));
    expect(rowToOutboxEvent(row({ occurred_at: '2026-01-02 03:04:05.123999' })).occurredAtMs).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 123));
    const early = new Date(0);
    early.setUTCFullYear(42, 0, 1);
    expect(rowToOutboxEvent(row({ occurred_at: '0042-01-01 00:00:00.000' })).occurredAtMs).toBe(early.getTime());
  });

  it('refuses impossible or missing dates', () => {
    for (const occurred_at of ['0000-00-00 00:00:00', '2026-02-30 00:00:00', '2026-01-01 24:00:00', '2026-01-01', new Date(), null]) {
      expect(refusal({ occurred_at })).toMatch(/occurred_at/);
    }
  });

  it('refuses aggregate types that cannot be a topic suffix, non-binary payloads and NULL text', () => {
    expect(refusal({ aggregatetype: 'user-x' })).toMatch(/aggregatetype/);
    expect(refusal({ payload: 'text' })).toMatch(/payload/);
    expect(refusal({ aggregateid: null })).toMatch(/aggregateid is NULL/);
  });

  it('never puts payload bytes in the error message', () => {
    const message = refusal({ payload: Buffer.from('secret-bytes'), version: 0 });
    expect(message).not.toContain('secret');
    expect(message).toContain(ID);
  });
});
