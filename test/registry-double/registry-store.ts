/**
 * State and decisions of the Schema Registry TEST DOUBLE (see schema-registry-double.ts): subjects,
 * versions, ids, compatibility levels. Behaves like the Confluent registry for the calls this
 * project makes, including its status and error codes. Not for production use.
 */
import type { Type } from 'avsc';
import { parseAvroSchema, schemaKey } from '../../src/codec/avro-types.js';
import {
  checkCompatibility,
  DEFAULT_COMPATIBILITY_LEVEL,
  isCompatibilityLevel,
  type CompatibilityLevel,
} from '../../src/codec/compatibility.js';

/** An error the double answers with: HTTP status plus Confluent `error_code` and message. */
export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface StoredSchema {
  readonly id: number;
  readonly text: string;
  readonly type: Type;
}

interface SubjectVersion {
  readonly version: number;
  readonly id: number;
}

/** A schema version as returned by GET /subjects/{subject}/versions/{version}. */
export interface VersionView {
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  readonly schema: string;
}

/** A schema to install under a fixed id, e.g. the id a captured record was written with. */
export interface PreloadedSchema {
  readonly id: number;
  readonly subject: string;
  /** Schema as JSON text or value. */
  readonly schema: unknown;
  /** Defaults to the subject's next version. */
  readonly version?: number;
}

function parse(text: string): Type {
  try {
    return parseAvroSchema(text);
  } catch (err) {
    throw new RegistryHttpError(422, 42201, `Invalid schema: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The double's registry state. Ids are stable: an identical schema gets the same id in every subject. */
export class RegistryStore {
  readonly #schemas = new Map<number, StoredSchema>();
  readonly #idByKey = new Map<string, number>();
  readonly #subjects = new Map<string, SubjectVersion[]>();
  readonly #levels = new Map<string, CompatibilityLevel>();
  #globalLevel: CompatibilityLevel = DEFAULT_COMPATIBILITY_LEVEL;
  #nextId = 1;

  /** Installs a schema under a given id and subject, skipping compatibility checks. */
  preload(entry: PreloadedSchema): void {
    const text = typeof entry.schema === 'string' ? entry.schema : JSON.stringify(entry.schema);
    const type = parse(text);
    const key = schemaKey(type);
    const existing = this.#idByKey.get(key);
    if (existing !== undefined && existing !== entry.id) throw new Error(`schema already preloaded under id ${existing}`);
    const other = this.#schemas.get(entry.id);
    if (other && schemaKey(other.type) !== key) throw new Error(`id ${entry.id} already holds another schema`);
    this.#schemas.set(entry.id, { id: entry.id, text, type });
    this.#idByKey.set(key, entry.id);
    this.#nextId = Math.max(this.#nextId, entry.id + 1);
    const versions = this.#subjects.get(entry.subject) ?? [];
    if (!versions.some((v) => v.id === entry.id)) {
      const version = entry.version ?? (versions.at(-1)?.version ?? 0) + 1;
      versions.push({ version, id: entry.id });
      versions.sort((a, b) => a.version - b.version);
    }
    this.#subjects.set(entry.subject, versions);
  }

  schemaById(id: number): StoredSchema {
    const found = this.#schemas.get(id);
    if (!found) throw new RegistryHttpError(404, 40403, `Schema ${id} not found`);
    return found;
  }

  versionsById(id: number): { subject: string; version: number }[] {
    this.schemaById(id);
    const out: { subject: string; version: number }[] = [];
    for (const [subject, versions] of this.#subjects) {
      for (const v of versions) if (v.id === id) out.push({ subject, version: v.version });
    }
    return out;
  }

  subjectNames(): string[] {
    return [...this.#subjects.keys()];
  }

  versions(subject: string): SubjectVersion[] {
    const versions = this.#subjects.get(subject);
    if (!versions || versions.length === 0) throw new RegistryHttpError(404, 40401, `Subject '${subject}' not found.`);
    return versions;
  }

  version(subject: string, version: string): VersionView {
    const wanted = version === 'latest' || version === '-1' ? undefined : this.#checkVersion(version);
    const versions = this.versions(subject);
    const found = wanted === undefined ? versions.at(-1) : versions.find((v) => v.version === wanted);
    if (!found) throw new RegistryHttpError(404, 40402, `Version ${version} not found.`);
    return { subject, version: found.version, id: found.id, schema: this.schemaById(found.id).text };
  }

  #checkVersion(version: string): number {
    if (!/^[1-9][0-9]{0,9}$/.test(version) || Number(version) > 2 ** 31 - 1) {
      throw new RegistryHttpError(422, 42202, `The specified version '${version}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string "latest"`);
    }
    return Number(version);
  }

  /** POST /subjects/{subject}: the version of `subject` holding `text`, without registering. */
  lookup(subject: string, text: string): VersionView {
    const versions = this.versions(subject);
    const id = this.#idByKey.get(schemaKey(parse(text)));
    const found = versions.find((v) => v.id === id);
    if (!found || id === undefined) throw new RegistryHttpError(404, 40403, 'Schema not found');
    return { subject, version: found.version, id, schema: this.schemaById(id).text };
  }

  /** POST /subjects/{subject}/versions: registers `text` (idempotent), enforcing the subject's level. */
  register(subject: string, text: string): number {
    const type = parse(text);
    const key = schemaKey(type);
    const versions = this.#subjects.get(subject) ?? [];
    const knownId = this.#idByKey.get(key);
    if (knownId !== undefined && versions.some((v) => v.id === knownId)) return knownId;
    const previous = versions.map((v) => this.schemaById(v.id).type);
    const result = checkCompatibility(this.level(subject), type, previous);
    if (!result.compatible) {
      throw new RegistryHttpError(409, 409, `Schema being registered is incompatible with an earlier schema for subject "${subject}", details: [${result.messages.join(', ')}]`);
    }
    const id = knownId ?? this.#nextId++;
    if (knownId === undefined) {
      this.#schemas.set(id, { id, text, type });
      this.#idByKey.set(key, id);
    }
    versions.push({ version: (versions.at(-1)?.version ?? 0) + 1, id });
    this.#subjects.set(subject, versions);
    return id;
  }

  /**
   * POST /compatibility/subjects/{subject}/versions/{version}: like the Confluent registry, checks
   * against that one version only (with the direction of the subject's level); a subject without
   * versions accepts anything when asked about `latest`.
   */
  testCompatibility(subject: string, version: string, text: string): { compatible: boolean; messages: string[] } {
    const type = parse(text);
    if (!this.#subjects.get(subject)?.length && (version === 'latest' || version === '-1')) return { compatible: true, messages: [] };
    const against = this.schemaById(this.version(subject, version).id).type;
    const result = checkCompatibility(this.level(subject), type, [against]);
    return { compatible: result.compatible, messages: [...result.messages] };
  }

  /** The level in force for `subject` (its own, else global). */
  level(subject: string): CompatibilityLevel {
    return this.#levels.get(subject) ?? this.#globalLevel;
  }

  /** GET /config/{subject}: 40408 when the subject has no level of its own and no fallback is asked. */
  subjectLevel(subject: string, defaultToGlobal: boolean): CompatibilityLevel {
    const own = this.#levels.get(subject);
    if (own) return own;
    if (defaultToGlobal) return this.#globalLevel;
    throw new RegistryHttpError(404, 40408, `Subject '${subject}' does not have subject-level compatibility configured`);
  }

  globalLevel(): CompatibilityLevel {
    return this.#globalLevel;
  }

  /** PUT /config[/{subject}]: sets a level (subject undefined: the global one). */
  setLevel(subject: string | undefined, level: unknown): CompatibilityLevel {
    const normalized = typeof level === 'string' ? level.toUpperCase() : level;
    if (!isCompatibilityLevel(normalized)) {
      throw new RegistryHttpError(422, 42203, 'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive');
    }
    if (subject === undefined) this.#globalLevel = normalized;
    else this.#levels.set(subject, normalized);
    return normalized;
  }
}
