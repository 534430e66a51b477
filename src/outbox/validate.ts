/**
 * Pure validation and encoding of one outbox event (DESIGN.md §2): everything that can be wrong
 * with an event is found here, before the writer sends its first SQL statement, so bad input never
 * leaves a half-written transaction behind. No I/O.
 */
import { randomUUID } from 'node:crypto';
import type { Type } from 'avsc';
import type { WriterSchema } from '../codec/types.js';
import { invalidFields } from '../codec/invalid-fields.js';
import { encodeFrame, FRAME_HEADER_LENGTH, MAX_SCHEMA_ID } from '../codec/framing.js';
import { OutboxWriteError } from '../errors.js';
import { AGGREGATE_TYPE_PATTERN, outboxSubject, type OutboxEvent } from './event.js';

/** An event as the application hands it to the writer. */
export interface NewOutboxEvent {
  /** `[A-Za-z0-9_]{1,64}`; selects topic `outbox.event.<aggregateType>` and the schema subject. */
  readonly aggregateType: string;
  /** Kafka record key: 1..255 Unicode characters (stored utf8mb4). */
  readonly aggregateId: string;
  /** Event type (Kafka header `type`): 1..128 printable ASCII characters. */
  readonly type: string;
  /**
   * Aggregate version, 1..2^63-1, taken under the aggregate's row lock in the same transaction
   * (see `updateWithVersion`). A `number` must be a safe integer.
   */
  readonly version: bigint | number;
  /** The event value; must fit `schema` exactly (undeclared record fields are refused too). */
  readonly value: unknown;
  /** Schema registered under `outbox.event.<aggregateType>-value`, resolved before the transaction. */
  readonly schema: WriterSchema;
  /** Event id, a lowercase UUID v4. Default: a fresh random UUID v4. */
  readonly id?: string;
  /** When the event happened; stored in UTC with millisecond precision. Default: now. */
  readonly occurredAt?: Date;
}

/** One reason an event was refused; `field` is the API name, e.g. `aggregateId` or `value.email`. */
export interface OutboxEventProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * An event refused before anything was written. Lists every problem found; `field` is the first.
 * Never retriable: the same input will always be refused.
 */
export class InvalidOutboxEventError extends OutboxWriteError {
  readonly field: string;
  readonly problems: readonly OutboxEventProblem[];
  constructor(problems: readonly [OutboxEventProblem, ...OutboxEventProblem[]]) {
    super(`invalid outbox event: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
      code: 'OUTBOX_INVALID_EVENT',
    });
    this.field = problems[0].field;
    this.problems = problems;
  }
}

/** Column limits of the outbox table (schemas/sql/001-outbox.sql). */
export const OUTBOX_LIMITS = {
  aggregateTypeLength: 64,
  /** Characters (code points), as utf8mb4 VARCHAR(255) counts them. */
  aggregateIdChars: 255,
  typeLength: 128,
  maxVersion: 2n ** 63n - 1n,
  /** MEDIUMBLOB capacity, framing included. */
  payloadBytes: 16_777_215,
} as const;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// DATETIME(3) range; anything outside would be rejected or mangled by the server.
const MIN_OCCURRED_AT_MS = Date.UTC(1000, 0, 1);
const MAX_OCCURRED_AT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * Validates `event` and encodes its value: returns the exact {@link OutboxEvent} the writer will
 * insert (payload Confluent-framed with `schema.id`). Throws {@link InvalidOutboxEventError}
 * naming every bad field. `now` is the clock used when `occurredAt` is absent (epoch ms).
 */
export function prepareOutboxEvent(event: NewOutboxEvent, now: () => number = Date.now): OutboxEvent {
  const problems: OutboxEventProblem[] = [];
  const bad = (field: string, message: string): void => void problems.push({ field, message });
  if (typeof event !== 'object' || event === null) throw new InvalidOutboxEventError([{ field: 'event', message: 'must be an object' }]);
  const { aggregateType, aggregateId, type, id, occurredAt, schema } = event;

  const typeOk = typeof aggregateType === 'string' && AGGREGATE_TYPE_PATTERN.test(aggregateType) &&
    aggregateType.length <= OUTBOX_LIMITS.aggregateTypeLength;
  if (!typeOk) bad('aggregateType', `must match [A-Za-z0-9_]+ and be at most ${OUTBOX_LIMITS.aggregateTypeLength} characters`);

  if (typeof aggregateId !== 'string' || aggregateId.length === 0) bad('aggregateId', 'must be a non-empty string');
  else if (LONE_SURROGATE.test(aggregateId)) bad('aggregateId', 'contains a lone UTF-16 surrogate (not valid UTF-8)');
  else if ([...aggregateId].length > OUTBOX_LIMITS.aggregateIdChars) bad('aggregateId', `must be at most ${OUTBOX_LIMITS.aggregateIdChars} characters`);

  if (typeof type !== 'string' || !PRINTABLE_ASCII.test(type) || type.length > OUTBOX_LIMITS.typeLength) {
    bad('type', `must be 1..${OUTBOX_LIMITS.typeLength} printable ASCII characters`);
  }

  const version = toVersion(event.version);
  if (version === undefined) bad('version', `must be an integer in 1..2^63-1 (a bigint, or a safe integer number)`);

  const eventId = id ?? randomUUID();
  if (typeof eventId !== 'string' || !UUID_V4.test(eventId)) bad('id', 'must be a lowercase UUID v4');

  const occurredAtMs = occurredAt === undefined ? now() : occurredAt instanceof Date ? occurredAt.getTime() : NaN;
  if (!(occurredAtMs >= MIN_OCCURRED_AT_MS && occurredAtMs <= MAX_OCCURRED_AT_MS)) {
    bad('occurredAt', 'must be a valid Date between years 1000 and 9999');
  }

  let payload: Buffer | undefined;
  if (!isWriterSchema(schema)) bad('schema', 'must be a WriterSchema { subject, id, name, type } resolved from the registry');
  else if (!Number.isInteger(schema.id) || schema.id < 0 || schema.id > MAX_SCHEMA_ID) bad('schema.id', `must be an integer in 0..${MAX_SCHEMA_ID}`);
  else if (typeOk && schema.subject !== outboxSubject(aggregateType)) {
    bad('schema.subject', `is '${schema.subject}', expected '${outboxSubject(aggregateType)}' for aggregate type '${aggregateType}'`);
  } else {
    const valueProblems = checkValue(schema.type, event.value);
    problems.push(...valueProblems);
    if (valueProblems.length === 0) {
      payload = encodeFrame(schema.id, schema.type.toBuffer(event.value));
      if (payload.length > OUTBOX_LIMITS.payloadBytes) {
        bad('value', `encodes to ${payload.length - FRAME_HEADER_LENGTH} bytes; the payload column holds at most ${OUTBOX_LIMITS.payloadBytes} with framing`);
      }
    }
  }

  const [first, ...rest] = problems;
  if (first) throw new InvalidOutboxEventError([first, ...rest]);
  return {
    id: eventId,
    aggregateType,
    aggregateId,
    type,
    version: version as bigint,
    occurredAtMs,
    payload: payload as Buffer,
  };
}

/** The version as a bigint, or undefined if it is not an integer in 1..2^63-1. */
function toVersion(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 1 ? BigInt(v) : undefined;
  if (typeof v === 'bigint') return v >= 1n && v <= OUTBOX_LIMITS.maxVersion ? v : undefined;
  return undefined;
}

function isWriterSchema(s: unknown): s is WriterSchema {
  if (typeof s !== 'object' || s === null) return false;
  const w = s as Partial<WriterSchema>;
  return typeof w.subject === 'string' && typeof w.id === 'number' && typeof w.type?.isValid === 'function';
}

/**
 * Problems of `value` under `type`, one per offending path (`value.address.city`), from the
 * codec's own check so the writer and `codec.encode` agree on what fits. Messages name the
 * expected type and the JavaScript kind found, never the value (it may hold personal data).
 */
function checkValue(type: Type, value: unknown): OutboxEventProblem[] {
  const fieldOf = (path: string): string => (path === '' ? 'value' : `value.${path}`);
  const problems = invalidFields(type, value).map((f) => ({ field: fieldOf(f.path), message: `expected ${f.expected}, got ${f.got}` }));
  if (problems.length > 0) return problems;
  // A second, strict pass refuses fields the schema does not declare: avsc would silently drop
  // them, so a misspelt optional field would publish its default instead of the intended value.
  type.isValid(value, {
    noUndeclaredFields: true,
    errorHook: (path, got, t) => {
      const declared = new Set((t as { fields?: { name: string }[] }).fields?.map((f) => f.name) ?? []);
      const extra = typeof got === 'object' && got !== null ? Object.keys(got).filter((k) => !declared.has(k)) : [];
      problems.push({ field: fieldOf(path.join('.')), message: `has fields the schema does not declare: ${extra.join(', ')}` });
    },
  });
  return problems;
}
