#!/usr/bin/env bash
# The project's test command: provisions what a fresh machine lacks (scripts/ensure-env.sh), then
# type-checks, lints, builds and runs the whole test suite against real MariaDB and Redis servers
# and librdkafka's mock Kafka cluster started by the test setup. Ends with `N passed, N failed`.
# Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
# The lab report's test opens the report in headless Chromium; only the tests need a browser.
export OUTBOX_CACHE_WITH_BROWSER=1
source "$(dirname "${BASH_SOURCE[0]}")/ensure-env.sh"
cd "$OUTBOX_CACHE_ROOT"

npm run --silent typecheck
npm run --silent lint
npm run --silent build

report="$(mktemp -t outbox-cache-vitest-XXXXXX.json)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  // A file that fails outside any test (an import error, a failing hook) counts once more.
  const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
  const failed = r.numFailedTests + brokenFiles;
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" || { echo "0 passed, 1 failed"; status=1; }
rm -f "$report"
exit "$status"
