#!/usr/bin/env bash
# `npm run demo`: the main job on a fresh machine without Docker. Provisions what is missing
# (scripts/ensure-env.sh: Node 22, mariadb-server, redis-server, npm dependencies), builds, and runs
# `outbox-cache lab` with every fault on, a lagging replica included: every cache-consistency
# strategy side by side on a local MariaDB and Redis, about a minute in all. Prints the table and
# the path of the HTML report. Extra arguments go to the lab (e.g. --duration 2m,
# --strategies cache-aside,ours). Ctrl-C stops it early and still prints the table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/ensure-env.sh"
cd "$OUTBOX_CACHE_ROOT"
npm run --silent build
cd "${INIT_CWD:-$OUTBOX_CACHE_ROOT}"
exec node "$OUTBOX_CACHE_ROOT/dist/cli/main.js" lab --replica "$@"
