/**
 * Dead-letter records: the original key, value, headers and timestamp, plus headers naming the
 * error and where the record came from, so an operator can inspect and re-publish it.
 */
import type { IHeaders, Message, Producer } from 'kafkajs';
import { OutboxCacheError, errorMessage } from '../errors.js';

/** Header names added to every dead-letter record (values are UTF-8 text). */
export const DEAD_LETTER_HEADERS = {
  errorCode: 'outbox-cache.error.code',
  errorMessage: 'outbox-cache.error.message',
  topic: 'outbox-cache.original.topic',
  partition: 'outbox-cache.original.partition',
  offset: 'outbox-cache.original.offset',
} as const;

/** Longest error message kept in a header (a message never carries payload bytes). */
const MAX_MESSAGE_CHARS = 1000;

/** A record that could not be applied, with where it came from and why. */
export interface PoisonRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers?: IHeaders;
  /** Error code (e.g. `DECODE_BAD_MAGIC`) and message. */
  readonly code: string;
  readonly message: string;
}

/** Builds the dead-letter message for one poison record. Pure. */
export function deadLetterMessage(record: PoisonRecord): Message {
  return {
    key: record.key,
    value: record.value,
    timestamp: record.timestamp,
    headers: {
      ...record.headers,
      [DEAD_LETTER_HEADERS.errorCode]: record.code,
      [DEAD_LETTER_HEADERS.errorMessage]: record.message.slice(0, MAX_MESSAGE_CHARS),
      [DEAD_LETTER_HEADERS.topic]: record.topic,
      [DEAD_LETTER_HEADERS.partition]: String(record.partition),
      [DEAD_LETTER_HEADERS.offset]: record.offset,
    },
  };
}

/**
 * Sends poison records to `topic` and waits for the brokers' acknowledgement (acks=all). Any
 * failure is reported as a retriable error: a poison record is never skipped without its copy.
 */
export async function sendToDeadLetter(producer: Producer, topic: string, records: readonly PoisonRecord[]): Promise<void> {
  if (records.length === 0) return;
  try {
    await producer.send({ topic, acks: -1, messages: records.map(deadLetterMessage) });
  } catch (err) {
    throw new OutboxCacheError(`dead-letter topic ${topic} unavailable: ${errorMessage(err)}`, { code: 'DLQ_UNAVAILABLE', retriable: true, cause: err });
  }
}
