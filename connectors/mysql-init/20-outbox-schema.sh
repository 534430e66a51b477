# Applies the project's SQL files (schemas/sql of this repository, mounted read-only at
# OUTBOX_SQL_DIR, default /opt/outbox-cache/sql) to the application database MYSQL_DATABASE, in
# name order: the outbox table and anything else the project keeps there.
#
# Sourced by the mysql image's entrypoint on the first start of an empty data directory, after
# 10-debezium-user.sh; `docker_process_sql` is the entrypoint's client for the temporary server and
# selects MYSQL_DATABASE itself.

# Executed instead of sourced (the entrypoint executes a .sh file that has its executable bit),
# docker_process_sql and the temporary server's socket would be missing: say so and stop.
if ! (return 0 2>/dev/null); then
  echo >&2 "20-outbox-schema.sh: must be sourced by the mysql image's entrypoint, not executed: remove its executable bit (chmod -x 20-outbox-schema.sh)"
  exit 1
fi

outbox_sql_dir="${OUTBOX_SQL_DIR:-/opt/outbox-cache/sql}"
if [ -z "${MYSQL_DATABASE:-}" ]; then
  echo >&2 "20-outbox-schema.sh: MYSQL_DATABASE is not set; cannot create the outbox table"
  exit 1
fi
outbox_sql_found=0
for outbox_sql_file in "$outbox_sql_dir"/*.sql; do
  [ -f "$outbox_sql_file" ] || continue
  echo "20-outbox-schema.sh: applying $outbox_sql_file to $MYSQL_DATABASE"
  docker_process_sql < "$outbox_sql_file"
  outbox_sql_found=1
done
if [ "$outbox_sql_found" -ne 1 ]; then
  echo >&2 "20-outbox-schema.sh: no .sql file in $outbox_sql_dir (is schemas/sql mounted there?)"
  exit 1
fi
unset outbox_sql_dir outbox_sql_file outbox_sql_found
