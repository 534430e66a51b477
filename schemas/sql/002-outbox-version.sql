-- Aggregate versions that survive delete and re-create (DESIGN.md §2, recipe b). One row per
-- aggregate, bumped in the domain transaction by nextVersion():
--   INSERT INTO outbox_version (aggregatetype, aggregateid, version) VALUES (?, ?, LAST_INSERT_ID(1))
--   ON DUPLICATE KEY UPDATE version = LAST_INSERT_ID(version + 1)
-- which takes the row lock of that aggregate until COMMIT (so version order is commit order) and
-- returns the new version in the statement's OK packet. Rows are never deleted: deleting one would
-- let a re-created aggregate start again at 1, below versions the cache may still hold.
-- Applied idempotently by `outbox-cache migrate`, in the outbox table's database.
CREATE TABLE IF NOT EXISTS `outbox_version` (
  aggregatetype VARCHAR(64)  CHARACTER SET ascii   COLLATE ascii_bin   NOT NULL,
  aggregateid   VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  version       BIGINT       NOT NULL,
  PRIMARY KEY (aggregatetype, aggregateid)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
