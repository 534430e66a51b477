/**
 * The Sequelize adapter against the real MariaDB, through the shared adapter contract: the mysql
 * dialect (mysql2) and the mariadb dialect (the mariadb connector).
 */
import { DataTypes, Sequelize, type Transaction } from 'sequelize';
import { expect } from 'vitest';
import { publishEvent } from '../../src/orm/sequelize.js';
import { describeOrmAdapter } from './suite.js';

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
    publishOutsideTransactions: (event) => [
      // No transaction at all, or the Sequelize instance in its place.
      () => publishEvent(undefined as unknown as Transaction, event),
      () => publishEvent(sequelize as unknown as Transaction, event),
      // Transactions that have ended.
      async () => publishEvent(await sequelize.transaction(async (t) => t), event),
      async () => {
        const t = await sequelize.transaction();
        await t.rollback();
        return publishEvent(t, event);
      },
    ],
    close: () => sequelize.close(),
  };
});
