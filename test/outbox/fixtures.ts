/**
 * Shared fixtures of the outbox tests: a user aggregate with its Avro schema (the shape of the
 * captured Debezium records), and a database with the outbox and a `users` domain table.
 */
import avro from 'avsc';
import type { WriterSchema } from '../../src/codec/types.js';
import { migrateOutbox } from '../../src/outbox/migrate.js';
import type { NewOutboxEvent } from '../../src/outbox/validate.js';
import { createTestDatabase, type TestDatabase } from '../helpers.js';

/** `com.example.users.UserChanged`, registered (in these tests) under id 6 for aggregate type `user`. */
export const userSchema: WriterSchema = {
  subject: 'outbox.event.user-value',
  id: 6,
  name: 'com.example.users.UserChanged',
  type: avro.Type.forSchema({
    type: 'record',
    name: 'UserChanged',
    namespace: 'com.example.users',
    fields: [
      { name: 'id', type: 'long' },
      { name: 'name', type: 'string' },
      { name: 'email', type: ['null', 'string'], default: null },
      { name: 'version', type: 'long' },
    ],
  }),
};

/** A valid event for user `id` at `version`; override any field. */
export function userEvent(id: number, version: bigint | number, overrides: Partial<NewOutboxEvent> = {}): NewOutboxEvent {
  return {
    aggregateType: 'user',
    aggregateId: String(id),
    type: 'UserChanged',
    version,
    value: { id, name: `user ${id}`, email: null, version: Number(version) },
    schema: userSchema,
    ...overrides,
  };
}

/** A fresh database with the outbox table (via migrate) and `users(id, name, version)`. */
export async function createOutboxDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  const conn = await db.pool.getConnection();
  try {
    await migrateOutbox(conn);
    await conn.query('CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, version BIGINT NOT NULL)');
  } finally {
    conn.release();
  }
  return db;
}
