-- Outbox table (DESIGN.md §2), portable between MySQL 8.x and MariaDB 10.6+.
-- Column names are the ones Debezium's outbox EventRouter expects. Applied idempotently by
-- `outbox-cache migrate` (which may substitute another table name for `outbox`); it can also be
-- run as is, e.g. from a container's init scripts.
--
-- The writer normally inserts and deletes each row in the same transaction, so the table stays
-- empty and the binlog carries the INSERT. With the writer's keep mode, rows stay until
-- `outbox-cache outbox purge` deletes them; the occurred_at index serves that purge.
CREATE TABLE IF NOT EXISTS `outbox` (
  id            CHAR(36)     CHARACTER SET ascii   COLLATE ascii_bin   NOT NULL,
  aggregatetype VARCHAR(64)  CHARACTER SET ascii   COLLATE ascii_bin   NOT NULL,
  aggregateid   VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  type          VARCHAR(128) CHARACTER SET ascii   COLLATE ascii_bin   NOT NULL,
  version       BIGINT       NOT NULL,
  occurred_at   DATETIME(3)  NOT NULL,
  payload       MEDIUMBLOB   NOT NULL,
  PRIMARY KEY (id),
  KEY outbox_occurred_at (occurred_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
