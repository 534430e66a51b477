/** The records captured from a real Debezium 2.7.4 (DESIGN.md §3), shared by the codec tests. */
import { readDebeziumRecords } from '../fixtures/debezium.js';

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

/** Parsed `records.json` of the captured Debezium fixture (test/fixtures). */
export function loadDebeziumFixture(): CapturedFixture {
  return readDebeziumRecords<CapturedFixture>();
}
