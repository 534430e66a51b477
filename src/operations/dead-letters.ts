/**
 * Dead-letter records as an operator sees them (DESIGN.md §5): the sink's error headers decoded,
 * grouped by error code, selected for replay, and turned back into the record the sink first
 * read (same key, value, timestamp and headers, minus the ones the sink added). Pure: no I/O.
 */
import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { DEAD_LETTER_HEADERS } from '../sink/dead-letter.js';

/** One record of the dead-letter topic, decoded. */
export interface DeadLetter {
  /** Where it sits in the dead-letter topic. */
  readonly partition: number;
  readonly offset: string;
  /** Error code and message the sink recorded (`UNKNOWN` / empty when a header is missing). */
  readonly code: string;
  readonly message: string;
  /** Where the sink read it; undefined when the headers do not say (not a sink dead letter). */
  readonly original: { readonly topic: string; readonly partition: number; readonly offset: string } | undefined;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  /** Every header as read, the sink's own included. */
  readonly headers: IHeaders;
}

const SINK_HEADERS: ReadonlySet<string> = new Set(Object.values(DEAD_LETTER_HEADERS));

function headerText(headers: IHeaders, name: string): string | undefined {
  const raw = headers[name];
  const last = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return last === undefined ? undefined : last.toString();
}

/** Decodes one message read from the dead-letter topic's `partition`. */
export function parseDeadLetter(partition: number, message: KafkaMessage): DeadLetter {
  const headers = message.headers ?? {};
  const topic = headerText(headers, DEAD_LETTER_HEADERS.topic);
  const originalPartition = headerText(headers, DEAD_LETTER_HEADERS.partition);
  const originalOffset = headerText(headers, DEAD_LETTER_HEADERS.offset);
  const known = topic !== undefined && /^\d{1,9}$/.test(originalPartition ?? '') && /^\d{1,19}$/.test(originalOffset ?? '');
  return {
    partition,
    offset: message.offset,
    code: headerText(headers, DEAD_LETTER_HEADERS.errorCode) ?? 'UNKNOWN',
    message: headerText(headers, DEAD_LETTER_HEADERS.errorMessage) ?? '',
    original: known ? { topic, partition: Number(originalPartition), offset: originalOffset ?? '' } : undefined,
    key: message.key,
    value: message.value,
    timestamp: message.timestamp,
    headers,
  };
}

/** Dead letters of one error code, in the order read. */
export interface DeadLetterGroup {
  readonly code: string;
  readonly letters: readonly DeadLetter[];
}

/** Groups by error code, largest group first (ties by code). */
export function groupByCode(letters: readonly DeadLetter[]): DeadLetterGroup[] {
  const groups = new Map<string, DeadLetter[]>();
  for (const letter of letters) {
    const group = groups.get(letter.code);
    if (group) group.push(letter);
    else groups.set(letter.code, [letter]);
  }
  return [...groups].map(([code, list]) => ({ code, letters: list }))
    .sort((a, b) => b.letters.length - a.letters.length || (a.code < b.code ? -1 : 1));
}

/** An inclusive range of dead-letter topic offsets, on one partition or on all. */
export interface OffsetRange {
  readonly partition?: number;
  readonly from: bigint;
  readonly to: bigint;
}

/** Which dead letters to replay: every given criterion must match; `all` alone selects everything. */
export interface ReplaySelection {
  /** Error codes; empty or undefined: any. */
  readonly codes?: readonly string[];
  /** Dead-letter topic offsets. */
  readonly offsets?: OffsetRange;
  /** Required when neither codes nor offsets are given, so an empty selection never means all. */
  readonly all?: boolean;
}

/** Parses `FROM-TO` or `PARTITION:FROM-TO` (inclusive offsets); undefined when malformed. */
export function parseOffsetRange(text: string): OffsetRange | undefined {
  const match = /^(?:(\d{1,9}):)?(\d{1,19})-(\d{1,19})$/.exec(text.trim());
  if (!match?.[2] || !match[3]) return undefined;
  const from = BigInt(match[2]);
  const to = BigInt(match[3]);
  if (to < from) return undefined;
  return match[1] === undefined ? { from, to } : { partition: Number(match[1]), from, to };
}

/** True when `letter` matches every criterion of `selection`; nothing matches an empty selection. */
export function isSelected(letter: DeadLetter, selection: ReplaySelection): boolean {
  const { codes, offsets } = selection;
  const hasCriterion = (codes !== undefined && codes.length > 0) || offsets !== undefined;
  if (!hasCriterion) return selection.all === true;
  if (codes !== undefined && codes.length > 0 && !codes.includes(letter.code)) return false;
  if (offsets) {
    if (offsets.partition !== undefined && offsets.partition !== letter.partition) return false;
    const offset = BigInt(letter.offset);
    if (offset < offsets.from || offset > offsets.to) return false;
  }
  return true;
}

/** The headers of `headers` without the ones the sink added, in their original order. */
export function originalHeaders(headers: IHeaders): IHeaders {
  const out: IHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!SINK_HEADERS.has(name) && value !== undefined) out[name] = value;
  }
  return out;
}

/** Where and what to produce to replay one dead letter. */
export interface ReplayRecord {
  readonly topic: string;
  readonly partition: number;
  readonly message: Message;
}

/**
 * The record the sink originally read: original topic and partition, same key, value and
 * timestamp, headers without the sink's. Undefined when the letter does not say where it came from.
 */
export function replayRecord(letter: DeadLetter): ReplayRecord | undefined {
  if (!letter.original) return undefined;
  return {
    topic: letter.original.topic,
    partition: letter.original.partition,
    message: { key: letter.key, value: letter.value, timestamp: letter.timestamp, headers: originalHeaders(letter.headers) },
  };
}

/** The topics the sink consumes: a list, or a pattern (DESIGN.md §3); `__*` topics never. */
export interface SinkSubscription {
  readonly topics?: readonly string[];
  readonly pattern?: RegExp;
}

/** Why the sink would not read `topic` under `subscription`, or undefined when it would. */
export function notConsumedReason(topic: string, subscription: SinkSubscription): string | undefined {
  if (topic.startsWith('__')) return `${topic} is an internal topic the sink never consumes`;
  if (subscription.topics && subscription.topics.length > 0) {
    return subscription.topics.includes(topic) ? undefined : `${topic} is not in the sink's topics (${subscription.topics.join(', ')})`;
  }
  if (subscription.pattern && !subscription.pattern.test(topic)) return `${topic} does not match the sink's topic pattern ${subscription.pattern.source}`;
  return undefined;
}
