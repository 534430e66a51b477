#!/usr/bin/env bash
# `npm run demo`: the main job on a fresh machine without Docker. Provisions what is missing
# (scripts/ensure-env.sh: Node 22, mariadb-server, redis-server, npm dependencies), builds, and runs
# `outbox-cache demo`, which starts a local MariaDB and Redis, runs the embedded relay, and compares a
# guarded cache with plain cache-aside under the same concurrent workload. Extra arguments go to
# the demo (e.g. --duration 30s). Ctrl-C stops it cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/ensure-env.sh"
cd "$OUTBOX_CACHE_ROOT"
npm run --silent build
exec node dist/cli/main.js demo "$@"
