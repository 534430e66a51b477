/**
 * The Sequelize adapter against the real MariaDB, through the shared adapter contract: the mysql
 * dialect (mysql2) and the mariadb dialect (the mariadb connector).
 */
import { DataTypes, Sequelize, type Transaction } from 'sequelize';
import { expect } from 'vitest';
import { nextVersion, publishEvent } from '../../src/orm/sequelize.js';
import { describeOrmAdapter, type OutsideAction } from './suite.js';

const attempt = (t: Transaction, action: OutsideAction): Promise<unknown> =>
  action.kind === 'publish' ? publishEvent(t, action.event) : nextVersion(t, 'user', '424242');

for (const dialect of ['mysql', 'mariadb'] as const) describeOrmAdapter(`sequelize_${dialect}`, async (db) => {
  const sequelize = new Sequelize(db.url.replace(/^mysql:/, `${dialect}:`), { dialect, logging: false, pool: { max: 4 } });
  const User = sequelize.define('User', {
    id: { type: DataTypes.INTEGER, primaryKey: true },
    name: DataTypes.STRING,
    version: DataTypes.BIGINT,
  }, { tableName: 'users', timestamps: false });
  return {
    updateAndPublish: (userId, name, event) =>
      sequelize.transaction(async (t) => {
        await User.update({ name }, { where: { id: userId }, transaction: t });
        return publishEvent(t, event);
      }),
    async publishThenRollBack(userId, event) {
      let id = '';
      const rolledBack = new Error('domain rule failed');
      await expect(
        sequelize.transaction(async (t) => {
          await User.update({ name: 'gone' }, { where: { id: userId }, transaction: t });
          id = (await publishEvent(t, event)).id;
          throw rolledBack;
        }),
      ).rejects.toBe(rolledBack);
      return id;
    },
    outsideTransactions: (action) => [
      // No transaction at all, or the Sequelize instance in its place.
      () => attempt(undefined as unknown as Transaction, action),
      () => attempt(sequelize as unknown as Transaction, action),
      // Transactions that have ended.
      async () => attempt(await sequelize.transaction(async (t) => t), action),
      async () => {
        const t = await sequelize.transaction();
        await t.rollback();
        return attempt(t, action);
      },
    ],
    transact: (work) =>
      sequelize.transaction((t) =>
        work({
          exec: async (sql, params) => void (await sequelize.query(sql, { replacements: [...params], transaction: t })),
          publish: (event) => publishEvent(t, event),
          nextVersion: (type, id) => nextVersion(t, type, id),
        }),
      ),
    close: () => sequelize.close(),
  };
});
