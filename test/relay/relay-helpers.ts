/**
 * Shared pieces of the relay's integration tests: an outbox table in the test file's own database
 * (the project's DDL), a writer of outbox rows, and a recording apply function.
 */
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import type { Pool, PoolConnection } from 'mysql2/promise';
import type { OutboxEvent } from '../../src/outbox/event.js';
import { startRelay, type Relay, type RelayOptions } from '../../src/relay/index.js';
import { createTestDatabase, uniqueName, type TestDatabase } from '../helpers.js';

/** Creates the outbox table from `schemas/sql/001-outbox.sql` in a fresh database. */
export async function createOutboxDatabase(prefix = 'relay'): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  await db.pool.query(readFileSync(new URL('../../schemas/sql/001-outbox.sql', import.meta.url), 'utf8'));
  return db;
}

/** One outbox row to write; the defaults make a small valid event. */
export interface RowSpec {
  readonly id?: string;
  readonly aggregateType?: string;
  readonly aggregateId?: string;
  readonly type?: string;
  readonly version: bigint | number;
  /** DATETIME(3) text, UTC. */
  readonly occurredAt?: string;
  readonly payload?: Buffer;
}

let counter = 0;
/** A fresh event id (36 ASCII characters, like a UUID). */
export function eventId(): string {
  counter += 1;
  return `${uniqueName('e').padEnd(24, '0')}-${String(counter).padStart(11, '0')}`;
}

/** INSERTs one outbox row on `conn` (inside whatever transaction it has open); returns its id. */
export async function insertOutboxRow(conn: Pool | PoolConnection, row: RowSpec): Promise<string> {
  const id = row.id ?? eventId();
  await conn.query(
    'INSERT INTO outbox (id, aggregatetype, aggregateid, type, version, occurred_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [id, row.aggregateType ?? 'user', row.aggregateId ?? '1', row.type ?? 'UserChanged', row.version.toString(),
      row.occurredAt ?? '2026-01-01 00:00:00.000', row.payload ?? Buffer.from([0, 0, 0, 0, 1])],
  );
  return id;
}

/** Records every batch handed to it; `fail` decides per call whether to throw instead. */
export class Collector {
  readonly events: OutboxEvent[] = [];
  readonly batches: number[] = [];
  calls = 0;
  fail: ((events: readonly OutboxEvent[], call: number) => Error | undefined) | undefined;

  readonly apply = async (events: readonly OutboxEvent[]): Promise<void> => {
    this.calls += 1;
    const error = this.fail?.(events, this.calls);
    if (error) throw error;
    this.events.push(...events);
    this.batches.push(events.length);
  };

  ids(): string[] {
    return this.events.map((e) => e.id);
  }
}

/** Starts a relay on `db` with test-friendly defaults; returns it with its abort controller. */
export async function startTestRelay(
  db: TestDatabase,
  overrides: Partial<RelayOptions> & Pick<RelayOptions, 'apply'>,
): Promise<{ relay: Relay; controller: AbortController; stop: () => Promise<void> }> {
  const controller = new AbortController();
  const relay = await startRelay({
    pool: db.pool,
    connection: { uri: inject('mysqlUrl') },
    database: db.name,
    relayName: 'test',
    signal: controller.signal,
    retryDelays: { initialDelayMs: 5, maxDelayMs: 50 },
    ...overrides,
  });
  return {
    relay,
    controller,
    stop: async () => {
      controller.abort();
      await relay.done;
    },
  };
}
