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
  /** Present when the original value was left out because the dead letter would be too large; says why. */
  valueDropped: 'outbox-cache.value.dropped',
} as const;

/**
 * Default byte budget of one dead-letter send, and of one dead letter: under Kafka's default
 * `message.max.bytes` (1,048,588) with room for the request's own framing.
 */
export const DEFAULT_DEAD_LETTER_MAX_BYTES = 1_000_000;

/** Bytes a record's framing, header names and our headers add, estimated generously. */
const RECORD_OVERHEAD_BYTES = 512;

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

/** Estimated bytes of `message` in a produce request (key, value, headers, framing). */
export function messageBytes(message: Message): number {
  let size = RECORD_OVERHEAD_BYTES + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    for (const value of Array.isArray(raw) ? raw : [raw]) size += name.length + (value?.length ?? 0) + 8;
  }
  return size;
}

/**
 * `message` made smaller, one step at a time: first without its value (with a header saying so),
 * then without its key and original headers too (only this project's headers, which name the
 * original topic, partition and offset). Undefined when nothing is left to drop.
 */
export function shrinkDeadLetter(message: Message, why: string): Message | undefined {
  const headers = message.headers ?? {};
  if (message.value !== null && message.value !== undefined) {
    const size = Buffer.isBuffer(message.value) ? message.value.length : Buffer.byteLength(message.value);
    return { ...message, value: null, headers: { ...headers, [DEAD_LETTER_HEADERS.valueDropped]: `${why}: the ${size}-byte value was left out; read it from the original offset` } };
  }
  const ours = Object.values(DEAD_LETTER_HEADERS) as string[];
  const kept = Object.fromEntries(Object.entries(headers).filter(([name]) => ours.includes(name)));
  if (message.key === null && Object.keys(kept).length === Object.keys(headers).length) return undefined;
  return { ...message, key: null, headers: { ...kept, [DEAD_LETTER_HEADERS.valueDropped]: `${why}: value, key and original headers were left out` } };
}

/**
 * The dead letters of `records`, in order, in sends of at most `maxBytes` each; a dead letter
 * that alone exceeds `maxBytes` is shrunk (see {@link shrinkDeadLetter}) until it fits. Pure.
 */
export function planDeadLetters(records: readonly PoisonRecord[], maxBytes: number = DEFAULT_DEAD_LETTER_MAX_BYTES): Message[][] {
  const sends: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const record of records) {
    let message = deadLetterMessage(record);
    while (messageBytes(message) > maxBytes) {
      const smaller = shrinkDeadLetter(message, `larger than the dead-letter budget of ${maxBytes} bytes`);
      if (!smaller) break;
      message = smaller;
    }
    const size = messageBytes(message);
    if (current.length > 0 && bytes + size > maxBytes) {
      sends.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) sends.push(current);
  return sends;
}

/** True when Kafka refused a produce request as too large (kafkajs reports the broker's error type). */
function isTooLarge(err: unknown): boolean {
  const seen = new Set<unknown>();
  const visit = (e: unknown): boolean => {
    if (e === null || typeof e !== 'object' || seen.has(e)) return false;
    seen.add(e);
    const x = e as { type?: unknown; cause?: unknown; originalError?: unknown; errors?: unknown };
    if (x.type === 'MESSAGE_TOO_LARGE' || x.type === 'RECORD_LIST_TOO_LARGE') return true;
    return visit(x.cause) || visit(x.originalError) || (Array.isArray(x.errors) && x.errors.some(visit));
  };
  return visit(err);
}

/**
 * Sends poison records to `topic` and waits for the brokers' acknowledgement (acks=all), in sends
 * under `maxBytes`. A send Kafka refuses as too large is split, and a single dead letter it
 * refuses is shrunk (value left out, with a header saying so), so that no record blocks its
 * partition forever. Any other failure is a retriable error: a poison record is never skipped
 * without its copy (a send that failed halfway may be repeated: dead letters are at least once).
 */
export async function sendToDeadLetter(
  producer: Producer, topic: string, records: readonly PoisonRecord[], maxBytes: number = DEFAULT_DEAD_LETTER_MAX_BYTES,
): Promise<void> {
  for (const messages of planDeadLetters(records, maxBytes)) await sendSplitting(producer, topic, messages);
}

async function sendSplitting(producer: Producer, topic: string, messages: Message[]): Promise<void> {
  try {
    await producer.send({ topic, acks: -1, messages });
    return;
  } catch (err) {
    if (isTooLarge(err)) {
      if (messages.length > 1) {
        const half = Math.ceil(messages.length / 2);
        await sendSplitting(producer, topic, messages.slice(0, half));
        await sendSplitting(producer, topic, messages.slice(half));
        return;
      }
      const smaller = messages[0] && shrinkDeadLetter(messages[0], 'refused by Kafka as too large');
      if (smaller) return sendSplitting(producer, topic, [smaller]);
    }
    throw new OutboxCacheError(`dead-letter topic ${topic} unavailable: ${errorMessage(err)}`, { code: 'DLQ_UNAVAILABLE', retriable: true, cause: err });
  }
}
