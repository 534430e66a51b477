/**
 * Pure parsing of one Kafka record, exactly as Debezium's EventRouter emits it (DESIGN.md §3),
 * into an {@link OutboxEvent}. No I/O: the consumer adapter feeds it kafkajs messages and the
 * tests feed it captured bytes.
 */
import type { IHeaders } from 'kafkajs';
import { MAX_VERSION } from '../cache/stored-value.js';
import { DecodeError } from '../errors.js';
import type { OutboxEvent } from '../outbox/event.js';
import { DEFAULT_ROUTING, routeTopic, type Routing } from './routing.js';

/** The parts of a Kafka record the sink reads (a kafkajs `KafkaMessage` fits). */
export interface KafkaRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch milliseconds as decimal text (CreateTime: Debezium sets it to `occurred_at`). */
  readonly timestamp: string;
  readonly headers?: IHeaders;
}

/** Result of {@link parseOutboxRecord}: an event, or a record that is not an outbox event at all. */
export type ParsedRecord =
  | { readonly kind: 'event'; readonly event: OutboxEvent }
  | { readonly kind: 'ignored'; readonly reason: 'internal-topic' };

// ignoreBOM: a leading U+FEFF is part of a key ("\uFEFF42" and "42" are different aggregates).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const IGNORED: ParsedRecord = Object.freeze({ kind: 'ignored', reason: 'internal-topic' });

/**
 * Value of header `name` as text, or undefined when absent. Kafka allows a header to repeat (kafkajs
 * then gives an array); the LAST value wins, like `Headers.lastHeader` in the Java client that
 * Debezium and Kafka Connect use, so a value appended by a later stage overrides an earlier one.
 */
export function lastHeader(headers: IHeaders | undefined, name: string): string | undefined {
  const last = lastRawHeader(headers, name);
  if (last === undefined) return undefined;
  return typeof last === 'string' ? last : utf8Text(last, `header '${name}'`);
}

/** The last value of header `name` as kafkajs gives it (bytes or text), or undefined when absent. */
function lastRawHeader(headers: IHeaders | undefined, name: string): Buffer | string | undefined {
  const raw = headers?.[name];
  return Array.isArray(raw) ? raw[raw.length - 1] : raw;
}

function utf8Text(bytes: Buffer, what: string): string {
  // Headers and keys are nearly always ASCII, which latin1 decodes identically and faster. A
  // JS loop: these are a few dozen bytes, for which the native isAscii call costs more.
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        return utf8.decode(bytes);
      } catch {
        throw new DecodeError(`${what} is not valid UTF-8`, { code: 'RECORD_BAD_UTF8' });
      }
    }
  }
  return bytes.toString('latin1');
}

/**
 * Parses a version header: ASCII decimal without sign, leading zeros or spaces, in [1, 2^63-1].
 * Strict because the version is the only thing that orders writes in Redis: a guessed version
 * could overwrite newer data.
 */
export function parseVersion(text: string | undefined): bigint {
  if (text === undefined) {
    throw new DecodeError("record has no 'version' header", { code: 'RECORD_MISSING_VERSION' });
  }
  if (!/^[1-9][0-9]{0,18}$/.test(text)) {
    throw new DecodeError(`header 'version' is not a positive decimal integer: ${JSON.stringify(text.slice(0, 40))}`, {
      code: 'RECORD_BAD_VERSION',
    });
  }
  const version = BigInt(text);
  if (version > MAX_VERSION) {
    throw new DecodeError(`header 'version' exceeds 2^63-1: ${text}`, { code: 'RECORD_BAD_VERSION' });
  }
  return version;
}

/**
 * The `version` header as {@link parseVersion} reads it. A value of up to 15 ASCII digits (every
 * version below 10^15) is read straight from its bytes, without building a string to parse.
 */
function versionHeader(headers: IHeaders | undefined): bigint {
  const last = lastRawHeader(headers, 'version');
  if (Buffer.isBuffer(last) && last.length > 0 && last.length <= 15 && last[0] !== 0x30) {
    let n = 0;
    for (let i = 0; i < last.length; i++) {
      const digit = last[i]! - 0x30;
      if (digit < 0 || digit > 9) return parseVersion(lastHeader(headers, 'version'));
      n = n * 10 + digit;
    }
    return BigInt(n);
  }
  return parseVersion(lastHeader(headers, 'version'));
}

/**
 * Turns a Kafka record of `topic` into an outbox event, the aggregate type taken from the topic
 * through `routing` (default `outbox.event.<type>`). Records on Kafka-internal topics (`__*`,
 * Debezium heartbeats) are `ignored`. Throws a non-retriable {@link DecodeError} for a record
 * that can never be applied (a topic the routing cannot route, `RECORD_UNROUTABLE`; no key, no
 * value, missing or invalid `id`/`type`/`version` header): such a record is poison.
 */
export function parseOutboxRecord(topic: string, record: KafkaRecord, routing: Routing = DEFAULT_ROUTING): ParsedRecord {
  return outboxRecordParser(topic, routing)(record);
}

/**
 * {@link parseOutboxRecord} for many records of one topic: the topic is routed once, and every
 * event shares one aggregate type string (later per-type lookups compare it by reference).
 */
export function outboxRecordParser(topic: string, routing: Routing = DEFAULT_ROUTING): (record: KafkaRecord) => ParsedRecord {
  const route = routeTopic(topic, routing);
  if (route.kind === 'ignored') return () => IGNORED;
  if (route.kind === 'unroutable') {
    return () => {
      throw new DecodeError(`cannot route the record: ${route.reason}`, { code: 'RECORD_UNROUTABLE' });
    };
  }
  const { aggregateType } = route;
  return (record) => parseEvent(aggregateType, record);
}

function parseEvent(aggregateType: string, record: KafkaRecord): ParsedRecord {
  if (record.key === null || record.key.length === 0) {
    throw new DecodeError('record has no key (aggregateid)', { code: 'RECORD_MISSING_KEY' });
  }
  if (record.value === null) {
    throw new DecodeError('record has no value (payload)', { code: 'RECORD_MISSING_VALUE' });
  }
  const id = lastHeader(record.headers, 'id');
  const type = lastHeader(record.headers, 'type');
  if (id === undefined || id === '') throw new DecodeError("record has no 'id' header", { code: 'RECORD_MISSING_HEADER' });
  if (type === undefined || type === '') throw new DecodeError("record has no 'type' header", { code: 'RECORD_MISSING_HEADER' });
  const version = versionHeader(record.headers);
  const occurredAtMs = Number(record.timestamp);
  return {
    kind: 'event',
    event: {
      id,
      aggregateType,
      aggregateId: utf8Text(record.key, 'record key'),
      type,
      version,
      occurredAtMs: Number.isFinite(occurredAtMs) ? occurredAtMs : 0,
      payload: record.value,
    },
  };
}
