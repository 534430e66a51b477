/**
 * A reader for the subset of YAML that docker-compose.yml is written in, so the compose file can
 * be checked without a YAML library: block mappings and sequences by indentation, `- key: value`
 * items, plain / 'single' / "double" quoted scalars, one-line flow sequences `[a, "b"]`, comments.
 * Scalars resolve as YAML's core schema does (null, true/false, integers, floats, strings).
 * Anything else (anchors, aliases, tags, block scalars, flow mappings, multi-line scalars, tabs)
 * is refused with its line number rather than misread.
 */

/** A parsed YAML value. */
export type YamlValue = null | boolean | number | string | YamlValue[] | { [key: string]: YamlValue };

/** Thrown for input outside the subset, or malformed; `line` is 1-based. */
export class YamlSubsetError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

interface Line {
  readonly no: number;
  readonly indent: number;
  readonly text: string;
}

/** Parses `source` (one document). */
export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*\t/.test(raw)) throw new YamlSubsetError('tab in indentation', i + 1);
    const text = stripComment(raw, i + 1).trimEnd();
    if (text.trim() === '') return;
    if (text === '---' || text === '...') throw new YamlSubsetError('document markers are not supported', i + 1);
    lines.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trimStart() });
  });
  if (lines.length === 0) return null;
  const [value, next] = parseBlock(lines, 0, lines[0]!.indent);
  if (next < lines.length) throw new YamlSubsetError('unexpected indentation', lines[next]!.no);
  return value;
}

function parseBlock(lines: Line[], i: number, indent: number): [YamlValue, number] {
  return isItem(lines[i]!.text) ? parseSequence(lines, i, indent) : parseMapping(lines, i, indent);
}

function isItem(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

function parseMapping(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const map: { [key: string]: YamlValue } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent && !isItem(lines[i]!.text)) {
    const line = lines[i]!;
    const colon = keyColon(line.text);
    if (colon < 0) throw new YamlSubsetError(`expected 'key: value', got '${line.text}'`, line.no);
    const key = scalarText(line.text.slice(0, colon).trim(), line.no);
    if (Object.hasOwn(map, key)) throw new YamlSubsetError(`duplicate key '${key}'`, line.no);
    const rest = line.text.slice(colon + 1).trim();
    i += 1;
    if (rest !== '') {
      map[key] = inlineValue(rest, line.no);
    } else if (i < lines.length && lines[i]!.indent > indent) {
      [map[key], i] = parseBlock(lines, i, lines[i]!.indent);
    } else if (i < lines.length && lines[i]!.indent === indent && isItem(lines[i]!.text)) {
      [map[key], i] = parseSequence(lines, i, indent);
    } else {
      map[key] = null;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new YamlSubsetError('unexpected indentation', lines[i]!.no);
  return [map, i];
}

function parseSequence(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const items: YamlValue[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent && isItem(lines[i]!.text)) {
    const line = lines[i]!;
    const content = line.text.slice(1).trimStart();
    if (content === '') {
      i += 1;
      let value: YamlValue = null;
      if (i < lines.length && lines[i]!.indent > indent) [value, i] = parseBlock(lines, i, lines[i]!.indent);
      items.push(value);
    } else if (keyColon(content) >= 0 && !/^["'[]/.test(content)) {
      // `- key: value`: a mapping whose keys sit at the column of `key`.
      const column = indent + (line.text.length - content.length);
      lines[i] = { no: line.no, indent: column, text: content };
      let value: YamlValue;
      [value, i] = parseMapping(lines, i, column);
      items.push(value);
    } else {
      items.push(inlineValue(content, line.no));
      i += 1;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new YamlSubsetError('unexpected indentation', lines[i]!.no);
  return [items, i];
}

/** Index of the `:` that ends a mapping key (followed by a space or the end), outside quotes. */
function keyColon(text: string): number {
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      if (i === 0) quote = c;
    } else if (c === ':' && (i + 1 === text.length || text[i + 1] === ' ')) {
      return i;
    }
  }
  return -1;
}

function stripComment(raw: string, no: number): string {
  let quote = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s[,:-]/.test(raw[i - 1]!))) {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) {
      return raw.slice(0, i);
    }
  }
  if (quote) throw new YamlSubsetError('unterminated quoted string', no);
  return raw;
}

function inlineValue(text: string, no: number): YamlValue {
  if (text.startsWith('[')) return flowSequence(text, no);
  if (/^[{&*!|>%@`]/.test(text)) throw new YamlSubsetError(`'${text[0]}' (flow mappings, anchors, tags, block scalars) is not supported`, no);
  return scalar(text, no);
}

function flowSequence(text: string, no: number): YamlValue[] {
  if (!text.endsWith(']')) throw new YamlSubsetError('a flow sequence must end on its line', no);
  const body = text.slice(1, -1).trim();
  if (body === '') return [];
  const items: string[] = [];
  let quote = '';
  let current = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quote) {
      current += c;
      if (c === '\\' && quote === '"') current += body[++i] ?? '';
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === ',') {
      items.push(current.trim());
      current = '';
    } else if (c === '[' || c === ']' || c === '{' || c === '}') {
      throw new YamlSubsetError('nested flow collections are not supported', no);
    } else {
      current += c;
    }
  }
  items.push(current.trim());
  return items.map((item) => scalar(item, no));
}

function scalar(text: string, no: number): YamlValue {
  if (text.startsWith('"') || text.startsWith("'")) return scalarText(text, no);
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?[0-9]+$/.test(text)) return Number(text);
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (/^0x[0-9a-fA-F]+$|^0o[0-7]+$|^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$/.test(text)) {
    throw new YamlSubsetError(`'${text}' (hex, octal, inf, nan) is not supported: quote it`, no);
  }
  if (/^[-?:,\]}]\s|^[-?:]$/.test(text)) throw new YamlSubsetError(`'${text}' is not a plain scalar`, no);
  return text;
}

/** A key or scalar as text: quoted forms unquoted (double quotes with JSON escapes). */
function scalarText(text: string, no: number): string {
  if (text.startsWith('"')) {
    if (!text.endsWith('"') || text.length < 2) throw new YamlSubsetError(`unterminated string ${text}`, no);
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new YamlSubsetError(`escape outside the JSON subset in ${text}`, no);
    }
  }
  if (text.startsWith("'")) {
    if (!text.endsWith("'") || text.length < 2) throw new YamlSubsetError(`unterminated string ${text}`, no);
    const inner = text.slice(1, -1);
    if (/'(?!')/.test(inner.replace(/''/g, ''))) throw new YamlSubsetError(`stray quote in ${text}`, no);
    return inner.replace(/''/g, "'");
  }
  return text;
}
