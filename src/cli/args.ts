/**
 * Argument parsing for the commands that take a few flags of their own (migrate, outbox purge,
 * schemas, connectors): node's parseArgs, but every problem (unknown option, missing value,
 * unexpected argument) is collected instead of the first one thrown, so that a command reports
 * them with its other problems at once. parseArgs' strict mode stops at the first problem,
 * hence its lenient mode plus the checks below.
 */
import { parseArgs } from 'node:util';
import type { ConfigProblem } from '../errors.js';

/** Option table: each flag (without dashes) is a string or a boolean. */
export type CliOptions = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;

/** Parsed values: strings for string options, true for booleans given; absent when not given. */
export type CliValues<O extends CliOptions> = { -readonly [K in keyof O]?: O[K]['type'] extends 'string' ? string : boolean };

/** Result of {@link parseCliArgs}: the values that were well-formed, and every problem found. */
export interface ParsedCliArgs<O extends CliOptions> {
  readonly values: CliValues<O>;
  readonly positionals: string[];
  readonly problems: ConfigProblem[];
}

/** Parses `argv` against `options`; with `allowPositionals` false a positional is a problem. */
export function parseCliArgs<O extends CliOptions>(argv: readonly string[], options: O, allowPositionals = false): ParsedCliArgs<O> {
  const { tokens } = parseArgs({ args: [...argv], options: { ...options }, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const problems: ConfigProblem[] = [];
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (allowPositionals) positionals.push(token.value);
      else problems.push({ setting: token.value, message: 'unexpected argument (options are --name value or --name=value)' });
      continue;
    }
    const option = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
    if (!option) {
      problems.push({ setting: token.rawName, message: 'unknown option' });
    } else if (option.type === 'boolean') {
      if (token.inlineValue) problems.push({ setting: token.rawName, message: 'takes no value' });
      else values[token.name] = true;
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('--'))) {
      problems.push({ setting: token.rawName, message: token.value === undefined ? 'needs a value' : `needs a value (got the option ${token.value})` });
    } else {
      values[token.name] = token.value;
    }
  }
  return { values: values as CliValues<O>, positionals, problems };
}
