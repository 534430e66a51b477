/**
 * The Avro codec over the Schema Registry: encodes values framed with their writer schema's id,
 * decodes any framed value (checking the id belongs to the expected subject), and resolves older
 * or newer writer schemas into the reader schema a caller asks for.
 *
 * The registry is asked once per schema id (parsed types, subjects and resolvers are cached, and
 * concurrent requests for one id share one HTTP call). Failed lookups are not cached, so a
 * retriable failure is retried by the next call.
 */
import type { Type } from 'avsc';
import { DecodeError, SchemaError } from '../errors.js';
import { avroTypeName, invalidFields, parseAvroSchema, schemaKey, type AvroSchema } from './avro-types.js';
import { readProblem } from './compatibility.js';
import { InvalidValueError } from './errors.js';
import { FRAME_HEADER_LENGTH, encodeFrame, frameSchemaId } from './framing.js';
import type { SchemaRegistryClient } from './registry-client.js';
import type { DecodedValue, PayloadDecoder, WriterSchema } from './types.js';

/** The registry calls the codec makes (a {@link SchemaRegistryClient} provides them). */
export type RegistryReader = Pick<SchemaRegistryClient, 'getSchemaById' | 'getSubjectVersionsById' | 'getLatestSchema' | 'lookupSchema'>;

/** Options of {@link AvroCodec.decode}. */
export interface AvroDecodeOptions {
  /**
   * Subject the value's schema id must be registered under, e.g. `outbox.event.user-value`, or a
   * function of the writer schema's full name (RecordNameStrategy, TopicRecordNameStrategy).
   */
  readonly subject: string | ((writerSchemaName: string) => string);
  /**
   * Schema to read into (Avro schema resolution). Without it, values come out in the writer's
   * shape. Fields the reader adds need defaults; fields it lacks are dropped.
   */
  readonly reader?: Type | AvroSchema;
}

/** Options of {@link AvroCodec}. */
export interface AvroCodecOptions {
  readonly registry: RegistryReader;
  /**
   * A subject mismatch found with a subject list older than this (ms) re-fetches the list once, in
   * case the schema was registered under that subject since. Default 60,000: a stream of
   * mismatched records costs at most one registry call per id per minute.
   */
  readonly subjectRecheckMs?: number;
  /** Clock in epoch ms (tests). Default `Date.now`. */
  readonly now?: () => number;
}

interface SubjectList {
  readonly subjects: ReadonlySet<string>;
  readonly fetchedAt: number;
}

interface KnownSchema {
  readonly id: number;
  readonly type: Type;
  readonly name: string;
}

type Resolver = ReturnType<Type['createResolver']>;

/** Caches a promise under `key`, forgetting it if it rejects so that the next call tries again. */
function memo<K, V>(map: Map<K, Promise<V>>, key: K, load: () => Promise<V>): Promise<V> {
  const existing = map.get(key);
  if (existing) return existing;
  const created = load();
  map.set(key, created);
  created.catch(() => {
    if (map.get(key) === created) map.delete(key);
  });
  return created;
}

/** Encodes and decodes Confluent-framed Avro through a Schema Registry. Implements {@link PayloadDecoder}. */
export class AvroCodec implements PayloadDecoder {
  readonly #registry: RegistryReader;
  readonly #byId = new Map<number, Promise<KnownSchema>>();
  readonly #subjectsById = new Map<number, Promise<SubjectList>>();
  /** Schemas already fetched and parsed, for the synchronous fast path of decode. */
  readonly #ready = new Map<number, KnownSchema>();
  /** Subjects each id is known to be registered under. */
  readonly #confirmed = new Map<number, Set<string>>();
  readonly #recheckMs: number;
  readonly #now: () => number;
  readonly #writers = new Map<string, Promise<WriterSchema>>();
  readonly #readers = new WeakMap<object, Type>();
  readonly #readerTexts = new Map<string, Type>();
  readonly #resolvers = new WeakMap<Type, Map<number, Resolver | SchemaError>>();

  constructor(options: AvroCodecOptions) {
    this.#registry = options.registry;
    this.#recheckMs = options.subjectRecheckMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The writer schema to encode with under `subject`: with `schema`, the registered version equal
   * to it (looked up, never registered: non-retriable `SCHEMA_NOT_REGISTERED` if absent); without,
   * the latest version. Cached per subject and schema for the codec's lifetime, so resolve it once
   * before transactions start.
   */
  writerSchema(subject: string, schema?: string | AvroSchema | Type): Promise<WriterSchema> {
    if (schema === undefined) {
      return memo(this.#writers, `${subject}\u0000latest`, async () => this.#adopt(subject, await this.#registry.getLatestSchema(subject)));
    }
    const local = parseAvroSchema(schema);
    return memo(this.#writers, `${subject}\u0000${schemaKey(local)}`, async () => {
      const text = typeof schema === 'string' ? schema : JSON.stringify(local.schema({ exportAttrs: true }));
      const found = await this.#registry.lookupSchema(subject, text);
      if (!found) {
        throw new SchemaError(`schema ${avroTypeName(local)} is not registered under subject ${subject}: register it first (outbox-cache schemas push)`, {
          code: 'SCHEMA_NOT_REGISTERED',
        });
      }
      return this.#adopt(subject, found);
    });
  }

  #adopt(subject: string, found: { id: number; schema: string }): WriterSchema {
    this.#confirm(found.id, subject);
    const type = parseAvroSchema(found.schema);
    const name = avroTypeName(type);
    if (!this.#byId.has(found.id)) {
      const known = { id: found.id, type, name };
      this.#ready.set(found.id, known);
      this.#byId.set(found.id, Promise.resolve(known));
    }
    return { subject, id: found.id, name, type };
  }

  /**
   * Validates `value` against the writer schema, then frames its Avro encoding with the schema id.
   * Pure (no registry call). A value that does not fit throws {@link InvalidValueError} naming
   * every offending field path.
   */
  encode(writer: WriterSchema, value: unknown): Buffer {
    const fields = invalidFields(writer.type, value);
    if (fields.length > 0) throw new InvalidValueError(`${writer.name} (subject ${writer.subject}, id ${writer.id})`, fields);
    return encodeFrame(writer.id, writer.type.toBuffer(value));
  }

  /**
   * Decodes a framed value. Non-retriable errors: DecodeError `DECODE_BAD_MAGIC`,
   * `DECODE_TRUNCATED`, `DECODE_INVALID_AVRO`; SchemaError `SCHEMA_UNKNOWN_ID`,
   * `SCHEMA_SUBJECT_MISMATCH`, `SCHEMA_NOT_AVRO`, `SCHEMA_UNRESOLVABLE`. Retriable SchemaError when
   * the registry cannot answer. Avro longs come out as numbers when safe, else bigints; `bytes`
   * fields are Buffers sharing memory with `framed` (copy them to keep them past the record).
   */
  async decode(framed: Buffer, options: AvroDecodeOptions): Promise<DecodedValue> {
    const known = this.decodeKnown(framed, options);
    if (known) return known;
    const schemaId = frameSchemaId(framed);
    const { subject } = options;
    if (typeof subject !== 'string') {
      const writer = await this.#schemaById(schemaId);
      await this.#checkSubject(schemaId, subject(writer.name));
      return this.#decodeBody(framed, writer, options);
    }
    const writer = (await Promise.all([this.#schemaById(schemaId), this.#checkSubject(schemaId, subject)]))[0];
    return this.#decodeBody(framed, writer, options);
  }

  /**
   * {@link decode} without waiting, for a value whose schema id is already fetched and confirmed
   * under the subject (every value after the first of its id): the decoded value, or undefined
   * when `decode` has to ask the registry. Throws the non-retriable errors `decode` rejects with.
   */
  decodeKnown(framed: Buffer, options: AvroDecodeOptions): DecodedValue | undefined {
    const schemaId = frameSchemaId(framed);
    const writer = this.#ready.get(schemaId);
    if (!writer) return undefined;
    const subject = typeof options.subject === 'string' ? options.subject : options.subject(writer.name);
    return this.#confirmed.get(schemaId)?.has(subject) ? this.#decodeBody(framed, writer, options) : undefined;
  }

  #decodeBody(framed: Buffer, writer: KnownSchema, options: AvroDecodeOptions): DecodedValue {
    const reader = options.reader === undefined ? undefined : this.#readerType(options.reader);
    const resolver = reader ? this.#resolver(reader, writer) : undefined;
    let value: unknown;
    try {
      // Decodes in place after the 5-byte header, as fromBuffer would decode the body alone.
      const decoded = (reader ?? writer.type).decode(framed, FRAME_HEADER_LENGTH, resolver);
      if (decoded.offset < 0) throw new Error('truncated buffer');
      if (decoded.offset < framed.length) throw new Error('trailing data');
      value = decoded.value;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new DecodeError(`bytes do not decode under writer schema ${writer.name} (id ${writer.id}): ${reason}`, {
        code: 'DECODE_INVALID_AVRO',
        cause: err,
      });
    }
    return { schemaId: writer.id, writerSchemaName: writer.name, value };
  }

  #schemaById(id: number): Promise<KnownSchema> {
    return memo(this.#byId, id, async () => {
      const { schema, schemaType } = await this.#registry.getSchemaById(id);
      if (schemaType !== 'AVRO') {
        throw new SchemaError(`schema id ${id} is a ${schemaType} schema, not Avro`, { code: 'SCHEMA_NOT_AVRO' });
      }
      const type = parseAvroSchema(schema);
      const known = { id, type, name: avroTypeName(type) };
      this.#ready.set(id, known);
      return known;
    });
  }

  async #checkSubject(id: number, subject: string): Promise<void> {
    if (this.#confirmed.get(id)?.has(subject)) return;
    const load = async (): Promise<SubjectList> => ({
      subjects: new Set((await this.#registry.getSubjectVersionsById(id)).map((v) => v.subject)),
      fetchedAt: this.#now(),
    });
    const cached = memo(this.#subjectsById, id, load);
    let list = await cached;
    if (!list.subjects.has(subject) && this.#now() - list.fetchedAt >= this.#recheckMs) {
      // The schema may have been registered under this subject since the list was fetched.
      // Concurrent callers share one re-fetch: only the first replaces the stale entry.
      if (this.#subjectsById.get(id) === cached) this.#subjectsById.delete(id);
      list = await memo(this.#subjectsById, id, load);
    }
    if (!list.subjects.has(subject)) {
      const actual = [...list.subjects].join(', ') || 'no subject';
      throw new SchemaError(`schema id ${id} is not registered under subject ${subject} (it is under ${actual}): the value was written for another topic`, {
        code: 'SCHEMA_SUBJECT_MISMATCH',
      });
    }
    this.#confirm(id, subject);
  }

  #confirm(id: number, subject: string): void {
    const subjects = this.#confirmed.get(id);
    if (subjects) subjects.add(subject);
    else this.#confirmed.set(id, new Set([subject]));
  }

  /** Reader schemas are re-parsed once with the project's rules (long representation, hardening). */
  #readerType(reader: Type | AvroSchema): Type {
    const cache: { get(key: never): Type | undefined; set(key: never, value: Type): unknown } =
      typeof reader === 'object' && reader !== null ? this.#readers : this.#readerTexts;
    let parsed = cache.get(reader as never);
    if (!parsed) {
      parsed = parseAvroSchema(reader);
      cache.set(reader as never, parsed);
    }
    return parsed;
  }

  #resolver(reader: Type, writer: KnownSchema): Resolver {
    let byWriter = this.#resolvers.get(reader);
    if (!byWriter) {
      byWriter = new Map();
      this.#resolvers.set(reader, byWriter);
    }
    let entry = byWriter.get(writer.id);
    if (!entry) {
      try {
        entry = reader.createResolver(writer.type);
      } catch (err) {
        const reason = readProblem(reader, writer.type) ?? (err instanceof Error ? err.message : String(err));
        entry = new SchemaError(`values written with schema id ${writer.id} (${writer.name}) cannot be read as ${avroTypeName(reader)}: ${reason}`, {
          code: 'SCHEMA_UNRESOLVABLE',
          cause: err,
        });
      }
      byWriter.set(writer.id, entry);
    }
    if (entry instanceof SchemaError) throw entry;
    return entry;
  }
}
