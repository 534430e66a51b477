/**
 * Schema compatibility as the Schema Registry defines it, decided with avsc resolvers: a reader
 * schema can read a writer schema when avsc can build a resolver from one to the other. Used by the
 * `schemas check` command for a subject's local history and by the registry test double. Pure.
 */
import type { Type } from 'avsc';

/** Compatibility levels of the Confluent Schema Registry (the registry's default is BACKWARD). */
export const COMPATIBILITY_LEVELS = [
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
] as const;

/** One of {@link COMPATIBILITY_LEVELS}. */
export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** The level a subject has when neither it nor the registry sets one. */
export const DEFAULT_COMPATIBILITY_LEVEL: CompatibilityLevel = 'BACKWARD';

/** True for the strings the registry accepts as a compatibility level. */
export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

/** Outcome of a compatibility decision; `messages` explain every failed pair (empty when compatible). */
export interface CompatibilityResult {
  readonly compatible: boolean;
  readonly messages: readonly string[];
}

/**
 * Why data written with `writer` cannot be read with `reader`, or undefined when it can
 * (record names must match, fields the reader adds need defaults, enum symbols must be known...).
 */
export function readProblem(reader: Type, writer: Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    // avsc throws a bare TypeError for some mismatched kinds (record vs primitive): say it plainly.
    return err instanceof TypeError ? `a ${reader.typeName} cannot read a ${writer.typeName}` : detail;
  }
}

/**
 * Decides whether `candidate` may be registered after `previous` (oldest first) under `level`.
 * BACKWARD: the candidate reads the latest; FORWARD: the latest reads the candidate; FULL: both.
 * The _TRANSITIVE variants check every previous version instead of only the latest. `label` names
 * a previous schema in messages (default `version <index + 1>`).
 */
export function checkCompatibility(
  level: CompatibilityLevel,
  candidate: Type,
  previous: readonly Type[],
  label: (index: number) => string = (i) => `version ${i + 1}`,
): CompatibilityResult {
  if (level === 'NONE' || previous.length === 0) return { compatible: true, messages: [] };
  const indexed = previous.map((type, i) => ({ type, version: label(i) }));
  const against = level.endsWith('_TRANSITIVE') ? indexed : indexed.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  const messages: string[] = [];
  for (const { type, version } of against) {
    const cannotReadOld = backward ? readProblem(candidate, type) : undefined;
    if (cannotReadOld) messages.push(`new schema cannot read data written with ${version}: ${cannotReadOld}`);
    const oldCannotRead = forward ? readProblem(type, candidate) : undefined;
    if (oldCannotRead) messages.push(`${version} cannot read data written with the new schema: ${oldCannotRead}`);
  }
  return { compatible: messages.length === 0, messages };
}
