/**
 * `outbox-cache/orm`: what it takes to publish through a database client the project has no
 * adapter for. The adapters themselves are separate entry points (`outbox-cache/orm/knex`,
 * `/kysely`, `/typeorm`, `/sequelize`, `/drizzle`, `/prisma`), so that importing one never loads
 * another ORM; this module loads none.
 */
export { serverInTransaction, sqlErrorFields, type ExecuteResult, type OutboxExecutor, type SqlErrorFields } from '../outbox/executor.js';
export { mysql2Executor, publishEventWith } from '../outbox/writer.js';
export { nextVersionVia } from './shared.js';
