/** The records captured from a real Debezium 2.7.4 (DESIGN.md §3), shared by the codec tests. */
import { readFileSync } from 'node:fs';

export interface CapturedRecord {
  readonly topic: string;
  readonly value_hex: string;
  readonly decoded_schema_id: number | null;
  readonly decoded: Record<string, unknown>;
}

export interface CapturedFixture {
  readonly schemas: Record<string, { subject: string; version: number; schema: unknown }>;
  readonly records: readonly CapturedRecord[];
}

/** Parsed `records.json` of the shared Debezium fixture. */
export function loadDebeziumFixture(): CapturedFixture {
  const url = new URL('../../../shared/fixtures/debezium-2.7.4-outbox/records.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as CapturedFixture;
}
