#!/usr/bin/env bash
# Sourced by the project's entry scripts. Makes a fresh Debian machine ready to build and run
# outbox-cache, installing only what is missing:
#   - Node.js 22 (from the npm registry's `node` package) when the machine's node is older;
#   - the Debian packages mariadb-server, redis-server and kcat, and chromium when
#     OUTBOX_CACHE_WITH_BROWSER=1 (the test script's: the lab report's browser test), as root;
#     otherwise it prints the command to run;
#   - node_modules, through `npm ci`, when missing or older than package-lock.json.
# After sourcing, `node` and `npm` on PATH are Node 22+.
set -euo pipefail

OUTBOX_CACHE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE22_DIR="${OUTBOX_CACHE_NODE_DIR:-$HOME/.cache/outbox-cache/node22}"

log() { printf '[outbox-cache] %s\n' "$*" >&2; }

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if [ "$(node_major)" -ge 22 ]; then return; fi
  if [ ! -x "$NODE22_DIR/node_modules/.bin/node" ]; then
    command -v npm >/dev/null || { log "npm not found: install Node.js (any version) first"; exit 1; }
    log "node $(node --version 2>/dev/null || echo missing) is older than 22: installing Node 22 into $NODE22_DIR"
    mkdir -p "$NODE22_DIR"
    npm install --prefix "$NODE22_DIR" --no-save --loglevel=error node@22 >&2
  fi
  export PATH="$NODE22_DIR/node_modules/.bin:$PATH"
  [ "$(node_major)" -ge 22 ] || { log "could not provision Node 22"; exit 1; }
}

ensure_debian_packages() {
  local missing=()
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v kcat >/dev/null || missing+=(kcat)
  if [ "${OUTBOX_CACHE_WITH_BROWSER:-}" = 1 ]; then
    command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
  fi
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ] || [ "${OUTBOX_CACHE_NO_APT:-}" = 1 ]; then
    log "missing Debian packages: ${missing[*]}"
    log "install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
}

ensure_node_modules() {
  cd "$OUTBOX_CACHE_ROOT"
  local stamp=node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    log "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}

ensure_node
ensure_debian_packages
ensure_node_modules
