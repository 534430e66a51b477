/** The pure core of `dlq list` / `dlq replay`: decoding, grouping, selection, header stripping, admission. */
import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import {
  groupByCode, isSelected, notConsumedReason, originalHeaders, parseDeadLetter, parseOffsetRange, replayRecord,
} from '../../src/operations/dead-letters.js';
import { DEAD_LETTER_HEADERS, deadLetterMessage } from '../../src/sink/dead-letter.js';

const ORIGINAL = { id: Buffer.from('e1'), type: Buffer.from('UserChanged'), version: Buffer.from('7') };

function letterAt(offset: number, code: string, partition = 0) {
  const message = deadLetterMessage({
    topic: 'outbox.event.user', partition: 3, offset: String(100 + offset), key: Buffer.from('u1'), value: Buffer.from([0, 1, 2]),
    timestamp: '1700000000000', headers: ORIGINAL, code, message: `failed with ${code}`,
  });
  const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(String(v))]));
  const read = { ...message, offset: String(offset), headers, attributes: 0, timestamp: String(message.timestamp) } as unknown as KafkaMessage;
  return parseDeadLetter(partition, read);
}

describe('dead letters', () => {
  it('decode what the sink wrote: code, message, origin', () => {
    const letter = letterAt(5, 'SCHEMA_UNKNOWN_ID');
    expect(letter).toMatchObject({ partition: 0, offset: '5', code: 'SCHEMA_UNKNOWN_ID', message: 'failed with SCHEMA_UNKNOWN_ID' });
    expect(letter.original).toEqual({ topic: 'outbox.event.user', partition: 3, offset: '105' });
  });

  it('treat a record without the sink headers as of unknown origin, never replayable', () => {
    const letter = parseDeadLetter(1, { key: null, value: null, offset: '0', timestamp: '0', headers: {}, attributes: 0 } as unknown as KafkaMessage);
    expect(letter.code).toBe('UNKNOWN');
    expect(letter.original).toBeUndefined();
    expect(replayRecord(letter)).toBeUndefined();
  });

  it('group by code, largest first', () => {
    const letters = [letterAt(0, 'B'), letterAt(1, 'A'), letterAt(2, 'B'), letterAt(3, 'C')];
    expect(groupByCode(letters).map((g) => [g.code, g.letters.map((l) => l.offset)])).toEqual([['B', ['0', '2']], ['A', ['1']], ['C', ['3']]]);
  });

  it('select by code, by offset range (on a partition or all), by both, and nothing without a criterion', () => {
    const letters = [letterAt(0, 'A'), letterAt(1, 'B'), letterAt(2, 'A'), letterAt(2, 'A', 1)];
    const pick = (s: Parameters<typeof isSelected>[1]) => letters.filter((l) => isSelected(l, s)).map((l) => `${l.partition}:${l.offset}`);
    expect(pick({ codes: ['A'] })).toEqual(['0:0', '0:2', '1:2']);
    expect(pick({ offsets: parseOffsetRange('1-2')! })).toEqual(['0:1', '0:2', '1:2']);
    expect(pick({ offsets: parseOffsetRange('0:1-2')! })).toEqual(['0:1', '0:2']);
    expect(pick({ codes: ['A'], offsets: parseOffsetRange('0:1-5')! })).toEqual(['0:2']);
    expect(pick({})).toEqual([]);
    expect(pick({ codes: [] })).toEqual([]);
    expect(pick({ all: true })).toHaveLength(4);
  });

  it('parse offset ranges strictly', () => {
    expect(parseOffsetRange('3-9')).toEqual({ from: 3n, to: 9n });
    expect(parseOffsetRange('2:3-9')).toEqual({ partition: 2, from: 3n, to: 9n });
    for (const bad of ['9-3', '3', '-1-2', 'a-b', '1:2:3-4', '']) expect(parseOffsetRange(bad), bad).toBeUndefined();
  });

  it('replay the original record: topic, partition, key, value, timestamp and headers without the sink\'s', () => {
    const record = replayRecord(letterAt(0, 'X'))!;
    expect(record.topic).toBe('outbox.event.user');
    expect(record.partition).toBe(3);
    expect(record.message.key).toEqual(Buffer.from('u1'));
    expect(record.message.value).toEqual(Buffer.from([0, 1, 2]));
    expect(record.message.timestamp).toBe('1700000000000');
    expect(Object.keys(record.message.headers ?? {})).toEqual(['id', 'type', 'version']);
    expect(Object.keys(originalHeaders({ a: Buffer.from('1'), [DEAD_LETTER_HEADERS.errorCode]: 'X', b: [Buffer.from('2'), Buffer.from('3')] }))).toEqual(['a', 'b']);
  });

  it('admit only topics the sink consumes', () => {
    expect(notConsumedReason('outbox.event.user', { pattern: /^outbox\.event\.[A-Za-z0-9_]+$/ })).toBeUndefined();
    expect(notConsumedReason('orders', { pattern: /^outbox\.event\.[A-Za-z0-9_]+$/ })).toMatch(/does not match/);
    expect(notConsumedReason('outbox.event.user', { topics: ['outbox.event.user'] })).toBeUndefined();
    expect(notConsumedReason('outbox.event.order', { topics: ['outbox.event.user'] })).toMatch(/not in the sink's topics/);
    expect(notConsumedReason('__consumer_offsets', { pattern: /.*/ })).toMatch(/internal/);
  });
});
