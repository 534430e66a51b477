-- Resume positions of the built-in binlog relay (`outbox-cache run`), one row per relay name.
-- The relay creates this table itself (CREATE TABLE IF NOT EXISTS) in the outbox's database,
-- under the name given by its options (default below). A row is written only after Redis (or
-- Kafka) acknowledged every outbox event before the stored position, so restarting from it
-- re-delivers at worst and never loses an event. Portable between MySQL 8.x and MariaDB 10.6+.
--
-- binlog_file / binlog_position: a transaction boundary in the source server's binary log.
-- source_server_id: @@server_id of the server the position belongs to; the relay refuses to
--   resume from a position recorded on another server (offsets are not portable).
-- To restart a relay from the current end of the binlog (events not yet relayed are then lost),
-- delete its row while it is stopped.
CREATE TABLE IF NOT EXISTS `outbox_relay_position` (
  relay_name        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  binlog_file       VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  binlog_position   BIGINT UNSIGNED NOT NULL,
  source_server_id  INT UNSIGNED NOT NULL,
  updated_at        DATETIME(3) NOT NULL,
  PRIMARY KEY (relay_name)
) ENGINE=InnoDB;
