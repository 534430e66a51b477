/**
 * An in-process, read-only stand-in for the Schema Registry, for the demo and the end-to-end
 * benchmark, which run without one. It serves the shipped schemas (`schemas/avro/subjects.json`)
 * under fixed local ids: numbered from {@link LOCAL_SCHEMA_ID_BASE} in manifest order (subjects in
 * file order, each subject's schemas oldest first; a schema text listed twice keeps its first id).
 * With the shipped manifest: 1 = UserChanged v1, 2 = UserChanged v2, 3 = CacheChange v1.
 *
 * Payloads framed with these ids only mean something to a codec over this same object: a real
 * deployment encodes with the ids its Schema Registry assigns (`outbox-cache schemas push`).
 */
import type { RegistryReader } from '../codec/codec.js';
import type { RegisteredSchema } from '../codec/registry-client.js';
import { parseAvroSchema, schemaKey } from '../codec/avro-types.js';
import { loadSchemaManifest, type SchemaManifest } from '../codec/schema-manifest.js';
import { SchemaError } from '../errors.js';

/** First local schema id. */
export const LOCAL_SCHEMA_ID_BASE = 1;

interface LocalEntry {
  readonly id: number;
  readonly text: string;
  readonly key: string;
}

/** A fixed registry over a loaded manifest. Implements the calls the codec makes. */
export class LocalSchemaRegistry implements RegistryReader {
  readonly #byId = new Map<number, LocalEntry>();
  /** Subject → its versions, oldest first. */
  readonly #subjects = new Map<string, LocalEntry[]>();

  /** Builds the registry from a manifest; its problems (unreadable files) are left out. */
  constructor(manifest: Pick<SchemaManifest, 'subjects'>) {
    const byKey = new Map<string, LocalEntry>();
    let next = LOCAL_SCHEMA_ID_BASE;
    for (const { subject, schemas } of manifest.subjects) {
      const versions: LocalEntry[] = [];
      for (const schema of schemas) {
        const key = schemaKey(schema.type);
        let entry = byKey.get(key);
        if (!entry) {
          entry = { id: next++, text: schema.text, key };
          byKey.set(key, entry);
          this.#byId.set(entry.id, entry);
        }
        versions.push(entry);
      }
      this.#subjects.set(subject, versions);
    }
  }

  /** Loads `<dir>/subjects.json` and its schemas; a manifest with problems is refused (SchemaError). */
  static async fromDirectory(dir: string): Promise<LocalSchemaRegistry> {
    const manifest = await loadSchemaManifest(dir);
    if (manifest.problems.length > 0) {
      throw new SchemaError(`schemas in ${dir} have problems: ${manifest.problems.join('; ')}`, { code: 'SCHEMA_MANIFEST_INVALID' });
    }
    return new LocalSchemaRegistry(manifest);
  }

  /** The local id of the latest schema of `subject`, e.g. to print it. Undefined if the subject is unknown. */
  latestId(subject: string): number | undefined {
    return this.#subjects.get(subject)?.at(-1)?.id;
  }

  /** Schema text of a local id; non-retriable `SCHEMA_UNKNOWN_ID` otherwise. */
  async getSchemaById(id: number): Promise<{ schema: string; schemaType: string }> {
    const entry = this.#byId.get(id);
    if (!entry) throw new SchemaError(`schema id ${id} is not one of the local schema ids`, { code: 'SCHEMA_UNKNOWN_ID' });
    return { schema: entry.text, schemaType: 'AVRO' };
  }

  /** Subjects (and versions) listing the schema of `id`; `SCHEMA_UNKNOWN_ID` for other ids. */
  async getSubjectVersionsById(id: number): Promise<{ subject: string; version: number }[]> {
    if (!this.#byId.has(id)) throw new SchemaError(`schema id ${id} is not one of the local schema ids`, { code: 'SCHEMA_UNKNOWN_ID' });
    const found: { subject: string; version: number }[] = [];
    for (const [subject, versions] of this.#subjects) {
      versions.forEach((entry, i) => {
        if (entry.id === id) found.push({ subject, version: i + 1 });
      });
    }
    return found;
  }

  /** The subject's newest schema; non-retriable `SCHEMA_SUBJECT_NOT_FOUND` for subjects not in the manifest. */
  async getLatestSchema(subject: string): Promise<RegisteredSchema> {
    const versions = this.#subjects.get(subject);
    const latest = versions?.at(-1);
    if (!versions || !latest) throw new SchemaError(`subject ${subject} is not in the local schema manifest`, { code: 'SCHEMA_SUBJECT_NOT_FOUND' });
    return { subject, id: latest.id, version: versions.length, schema: latest.text };
  }

  /** The version of `subject` equal to `schema` (compared as parsed Avro), or undefined. */
  async lookupSchema(subject: string, schema: string): Promise<RegisteredSchema | undefined> {
    const key = schemaKey(parseAvroSchema(schema));
    const versions = this.#subjects.get(subject) ?? [];
    const index = versions.findIndex((entry) => entry.key === key);
    const entry = versions[index];
    return entry ? { subject, id: entry.id, version: index + 1, schema: entry.text } : undefined;
  }
}
