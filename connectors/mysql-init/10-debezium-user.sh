# Creates the MySQL user Debezium connects as, with exactly the privileges Debezium documents for
# its MySQL connector: SELECT, RELOAD, SHOW DATABASES (schema snapshot, including snapshot.mode
# no_data), REPLICATION SLAVE (read the binlog) and REPLICATION CLIENT (SHOW BINARY LOG STATUS,
# SHOW BINARY LOGS).
#
# Sourced by the mysql image's entrypoint on the first start of an empty data directory (files in
# /docker-entrypoint-initdb.d run in name order); `docker_process_sql` is the entrypoint's client
# for the temporary server. The user name and password come from the environment
# (DEBEZIUM_DB_USER, default debezium; DEBEZIUM_DB_PASSWORD, required), never from this file.

# Executed instead of sourced (the entrypoint executes a .sh file that has its executable bit),
# docker_process_sql and the temporary server's socket would be missing: say so and stop.
if ! (return 0 2>/dev/null); then
  echo >&2 "10-debezium-user.sh: must be sourced by the mysql image's entrypoint, not executed: remove its executable bit (chmod -x 10-debezium-user.sh)"
  exit 1
fi

if [ -z "${DEBEZIUM_DB_PASSWORD:-}" ]; then
  echo >&2 "10-debezium-user.sh: DEBEZIUM_DB_PASSWORD is not set; cannot create the Debezium user"
  exit 1
fi

# Quotes a value as an SQL string literal (backslashes and quotes doubled).
debezium_sql_string() {
  printf "'%s'" "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e "s/'/''/g")"
}

debezium_user="$(debezium_sql_string "${DEBEZIUM_DB_USER:-debezium}")@'%'"
docker_process_sql --database=mysql <<SQL
CREATE USER IF NOT EXISTS ${debezium_user} IDENTIFIED BY $(debezium_sql_string "$DEBEZIUM_DB_PASSWORD");
GRANT SELECT, RELOAD, SHOW DATABASES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ${debezium_user};
SQL
unset debezium_user
