/**
 * What keeps the callback of `withOutboxTransaction` inside its one transaction. With autocommit
 * off no statement commits by itself, but some statements end the transaction anyway: an explicit
 * COMMIT or ROLLBACK, and every statement with an implicit commit (DDL such as CREATE TABLE or
 * ALTER TABLE, LOCK TABLES, START TRANSACTION, SET autocommit = 1, GRANT, ...). After one, what
 * ran before it is committed even if the callback later fails, so the callback is no longer
 * all-or-nothing. The guard refuses such statements before they reach the server.
 */
import type { Connection } from 'mysql2/promise';
import { OutboxWriteError } from '../errors.js';

/**
 * Statements that end the open transaction (MySQL 8 "Statements That Cause an Implicit Commit",
 * MariaDB alike), read from the statement's first words after comments. CREATE/DROP TEMPORARY
 * TABLE and ROLLBACK TO SAVEPOINT stay inside the transaction and are allowed.
 */
const ENDS_TRANSACTION = new RegExp(
  '^(?:\\s|/\\*[\\s\\S]*?\\*/|(?:--|#)[^\\n]*\\n)*(?:' + [
    'COMMIT', 'ROLLBACK(?!\\s+(?:WORK\\s+)?TO\\b)', 'BEGIN', 'START\\s+TRANSACTION', 'SET\\s+(?:SESSION\\s+|@@(?:SESSION\\.)?)?AUTOCOMMIT',
    'ALTER', 'CREATE(?!\\s+TEMPORARY\\b)', 'DROP(?!\\s+TEMPORARY\\b)', 'RENAME', 'TRUNCATE', 'LOCK\\s+TABLES?', 'UNLOCK\\s+TABLES?',
    'GRANT', 'REVOKE', 'SET\\s+PASSWORD', 'ANALYZE', 'CACHE\\s+INDEX', 'CHECK\\s+TABLE', 'FLUSH', 'LOAD\\s+INDEX', 'OPTIMIZE', 'REPAIR',
    'RESET', 'INSTALL', 'UNINSTALL', '(?:START|STOP)\\s+(?:SLAVE|REPLICA)', 'CHANGE\\s+(?:MASTER|REPLICATION)',
  ].join('|') + ')\\b',
  'i',
);

/** True when `sql` (one statement) would end the open transaction. */
export function endsTransaction(sql: string): boolean {
  return ENDS_TRANSACTION.test(sql);
}

function escaped(what: string): OutboxWriteError {
  return new OutboxWriteError(
    `${what} inside withOutboxTransaction would commit part of the transaction on its own; ` +
      'run DDL and transaction control outside the callback (the transaction commits when the callback resolves)',
    { code: 'OUTBOX_TRANSACTION_ESCAPE' },
  );
}

/** The text of a query/execute argument (a string or `{ sql }`), if any. */
function statementText(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const sql = (arg as { sql?: unknown } | null)?.sql;
  return typeof sql === 'string' ? sql : undefined;
}

/**
 * `conn` as the callback sees it: `commit()`, `rollback()` and `beginTransaction()` reject, and
 * `query`/`execute` reject a statement that would end the transaction, with OutboxWriteError
 * `OUTBOX_TRANSACTION_ESCAPE`, before anything is sent. Not covered: several statements in one
 * call (connections opened with `multipleStatements`) and statements sent through another
 * connection or the underlying protocol object.
 */
export function guardTransaction<C extends Connection>(conn: C): C {
  return new Proxy(conn, {
    get(target, prop) {
      if (prop === 'commit' || prop === 'rollback' || prop === 'beginTransaction') {
        return () => Promise.reject(escaped(`${String(prop)}()`));
      }
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'query' || prop === 'execute') {
        return (...args: unknown[]) => {
          const text = statementText(args[0]);
          if (text !== undefined && endsTransaction(text)) return Promise.reject(escaped(`'${text.trim().split(/\s+/).slice(0, 3).join(' ')}'`));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
