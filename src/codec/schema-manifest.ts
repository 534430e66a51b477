/**
 * The local schema files and the subject each belongs to. The mapping is explicit: the manifest
 * `subjects.json` in the schema folder lists, per Schema Registry subject, its schema files oldest
 * first:
 *
 *   { "subjects": { "outbox.event.user-value": ["com.example.users.UserChanged.v1.avsc", "...v2.avsc"] } }
 *
 * Subjects must be outbox subjects (`outbox.event.<aggregatetype>-value`, TopicNameStrategy).
 * `.avsc` files the manifest does not list are reported, never guessed.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Type } from 'avsc';
import { ConfigError } from '../errors.js';
import { parseAvroSchema } from './avro-types.js';

/** File name of the manifest inside the schema folder. */
export const MANIFEST_FILE = 'subjects.json';

/** Pattern of the subjects a manifest may name. */
export const OUTBOX_SUBJECT_PATTERN = /^outbox\.event\.[A-Za-z0-9_]+-value$/;

/** One schema file, parsed. */
export interface LocalSchema {
  /** File name relative to the schema folder. */
  readonly file: string;
  /** The schema as compact JSON, the text sent to the registry. */
  readonly text: string;
  readonly type: Type;
}

/** A subject and its schema files, oldest first. */
export interface LocalSubject {
  readonly subject: string;
  readonly schemas: readonly LocalSchema[];
}

/** The loaded manifest. Subjects with any unreadable file are left out and listed in `problems`. */
export interface SchemaManifest {
  readonly subjects: readonly LocalSubject[];
  /** One readable line per problem (bad subject name, missing file, invalid JSON or Avro). */
  readonly problems: readonly string[];
  /** `.avsc` files in the folder that no subject lists. */
  readonly unlisted: readonly string[];
}

/**
 * Reads `<dir>/subjects.json` and every schema it lists. A missing or malformed manifest is a
 * ConfigError (nothing can be checked); problems with single files are collected, not thrown.
 */
export async function loadSchemaManifest(dir: string): Promise<SchemaManifest> {
  const manifestPath = join(dir, MANIFEST_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(manifestPath, 'utf8'));
  } catch (err) {
    const reason = (err as { code?: string }).code === 'ENOENT' ? 'not found' : err instanceof Error ? err.message : String(err);
    throw new ConfigError([{ setting: '--dir', message: `cannot read ${manifestPath}: ${reason}` }]);
  }
  const entries = (raw as { subjects?: unknown } | null)?.subjects;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) {
    throw new ConfigError([{ setting: '--dir', message: `${manifestPath} must be {"subjects": {"<subject>": ["<file>.avsc", ...]}}` }]);
  }
  const subjects: LocalSubject[] = [];
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const [subject, files] of Object.entries(entries)) {
    if (!OUTBOX_SUBJECT_PATTERN.test(subject)) {
      problems.push(`${subject}: not an outbox subject (expected outbox.event.<aggregatetype>-value)`);
      continue;
    }
    if (!Array.isArray(files) || files.length === 0 || !files.every((f) => typeof f === 'string')) {
      problems.push(`${subject}: must list one or more schema file names, oldest first`);
      continue;
    }
    const schemas: LocalSchema[] = [];
    for (const file of files as string[]) {
      listed.add(file);
      const loaded = await loadSchemaFile(dir, file);
      if (typeof loaded === 'string') problems.push(`${subject}: ${file}: ${loaded}`);
      else schemas.push(loaded);
    }
    if (schemas.length === files.length) subjects.push({ subject, schemas });
  }
  const unlisted = (await readdir(dir)).filter((f) => f.endsWith('.avsc') && !listed.has(f)).sort();
  return { subjects, problems, unlisted };
}

async function loadSchemaFile(dir: string, file: string): Promise<LocalSchema | string> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(dir, file), 'utf8'));
  } catch (err) {
    return (err as { code?: string }).code === 'ENOENT' ? 'file not found' : `not valid JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  try {
    return { file, text: JSON.stringify(json), type: parseAvroSchema(json as never) };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
