#!/usr/bin/env bash
# Local emulators for the tests: Cosmos DB (SQL API) and Azure Blob storage (Azurite).
#
#   tools/emulators.sh install   # npm-install both, pinned, into a cache folder (fast when done)
#   tools/emulators.sh start     # start both on 127.0.0.1 in the background, wait until ready
#   tools/emulators.sh env       # print the exports the tests read (internal/testenv)
#   tools/emulators.sh status    # tell whether each one runs and answers
#   tools/emulators.sh logs [N]  # print the last N (default 40) lines of both logs
#   tools/emulators.sh stop      # stop both (no error when already stopped)
#
# Typical use:
#   tools/emulators.sh install && tools/emulators.sh start && eval "$(tools/emulators.sh env)"
#
# Settings (environment):
#   COSMOS_PORT              default 8081
#   AZURITE_PORT             default 10000
#   POPSELL_TOOLS_CACHE      npm install folder, default $HOME/.cache/popsell-gdpr/npm
#   POPSELL_EMULATORS_DIR    logs + pid files, default ${TMPDIR:-/tmp}/popsell-gdpr-emulators
#   EMULATORS_START_TIMEOUT  seconds to wait for readiness, default 120
#
# Both servers keep everything in memory: every start is empty.
set -euo pipefail

COSMOS_PKG=@vercel/cosmosdb-server
COSMOS_VERSION=1.0.1
AZURITE_PKG=azurite
AZURITE_VERSION=3.37.0

COSMOS_PORT=${COSMOS_PORT:-8081}
AZURITE_PORT=${AZURITE_PORT:-10000}
CACHE_DIR=${POPSELL_TOOLS_CACHE:-$HOME/.cache/popsell-gdpr/npm}
RUN_DIR=${POPSELL_EMULATORS_DIR:-${TMPDIR:-/tmp}/popsell-gdpr-emulators}
START_TIMEOUT=${EMULATORS_START_TIMEOUT:-120}

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/npm-cache.sh
source "$TOOLS_DIR/npm-cache.sh" # npm_install, shared with tools/browser.sh
COSMOS_SCRIPT=$TOOLS_DIR/cosmos-emulator/cosmos-start.js

# One install folder per pinned version, so a version bump never reuses an old install.
COSMOS_DIR=$CACHE_DIR/cosmosdb-server-$COSMOS_VERSION
AZURITE_DIR=$CACHE_DIR/azurite-$AZURITE_VERSION

# Well-known, public development credentials (not secrets).
AZURITE_ACCOUNT_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

log() { printf 'emulators: %s\n' "$*" >&2; }
die() { printf 'emulators: ERROR: %s\n' "$*" >&2; exit 1; }

need_node() {
  command -v node >/dev/null 2>&1 || die "node is not installed (Node.js 20+ is needed)"
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
}

# ---------------------------------------------------------------- install

cmd_install() {
  need_node
  mkdir -p "$CACHE_DIR"
  npm_install "$COSMOS_DIR" "$COSMOS_PKG" "$COSMOS_VERSION"
  npm_install "$AZURITE_DIR" "$AZURITE_PKG" "$AZURITE_VERSION"
}

# ---------------------------------------------------------------- helpers

# http_status PORT PATH: print the HTTP status of GET http://127.0.0.1:PORT/PATH,
# or 000 when nothing answers. curl when present, else node (always present here).
http_status() {
  local code=
  if command -v curl >/dev/null 2>&1; then
    code=$(curl -s --noproxy '*' -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$2") || true
  else
    code=$(node -e '
      const req = require("http").get({host: "127.0.0.1", port: +process.argv[1], path: process.argv[2], timeout: 2000},
        res => { console.log(res.statusCode); res.resume(); process.exit(0); });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => { console.log("000"); process.exit(0); });
    ' "$1" "$2" 2>/dev/null) || true
  fi
  echo "${code:-000}"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
since_ms() { echo $(($(now_ms) - $1)); }

pid_file() { echo "$RUN_DIR/$1-$2.pid"; }   # NAME PORT
log_file() { echo "$RUN_DIR/$1-$2.log"; }   # NAME PORT

# running_pid NAME PORT MARKER: print the pid of our emulator if it is alive and is
# really ours (its command line contains MARKER; guards against a reused pid).
running_pid() {
  local pf pid
  pf=$(pid_file "$1" "$2")
  [[ -f $pf ]] || return 1
  pid=$(<"$pf")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local cmdline
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$3"* ]] || return 1
  echo "$pid"
}

COSMOS_MARKER=cosmos-start.js
AZURITE_MARKER=azurite-blob

# check_port NAME PORT MARKER: fail when PORT answers but not from our NAME emulator.
check_port() {
  local name=$1 port=$2 marker=$3
  if ! running_pid "$name" "$port" "$marker" >/dev/null && [[ $(http_status "$port" /) != 000 ]]; then
    die "port $port (for $name) is already in use by a process this script did not start; stop it or pick another port (COSMOS_PORT / AZURITE_PORT)"
  fi
}

# launch NAME PORT MARKER CMD...: start CMD in the background unless already running.
launch() {
  local name=$1 port=$2 marker=$3
  shift 3
  local pid
  if pid=$(running_pid "$name" "$port" "$marker"); then
    log "$name already running on port $port (pid $pid)"
    return 0
  fi
  local lf
  lf=$(log_file "$name" "$port")
  (cd "$RUN_DIR" && exec nohup "$@" >"$lf" 2>&1 </dev/null) &
  echo $! >"$(pid_file "$name" "$port")"
  log "$name starting on 127.0.0.1:$port (pid $!, log $lf)"
}

# wait_ready NAME PORT MARKER OKCODES: poll until GET / answers with a status matching
# the regex OKCODES (return 0), or the process dies or the timeout passes (print the
# log tail, return 1).
wait_ready() {
  local name=$1 port=$2 marker=$3 ok=$4
  local lf code
  lf=$(log_file "$name" "$port")
  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    code=$(http_status "$port" /)
    if [[ $code =~ ^($ok)$ ]]; then
      log "$name ready on 127.0.0.1:$port (GET / -> $code) $(since_ms "$T0") ms after start"
      return 0
    fi
    if ! running_pid "$name" "$port" "$marker" >/dev/null; then
      log "$name exited before it was ready; last lines of $lf:"
      tail -n 40 "$lf" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "$name not ready after ${START_TIMEOUT}s (last GET / status: $code); last lines of $lf:"
      tail -n 40 "$lf" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------- start / stop

cmd_start() {
  need_node
  [[ -f $COSMOS_DIR/.installed && -f $AZURITE_DIR/.installed ]] ||
    die "emulators not installed in $CACHE_DIR; run: tools/emulators.sh install"
  [[ -f $COSMOS_SCRIPT ]] || die "missing $COSMOS_SCRIPT"
  mkdir -p "$RUN_DIR"
  T0=$(now_ms)
  [[ $COSMOS_PORT != "$AZURITE_PORT" ]] || die "COSMOS_PORT and AZURITE_PORT are both $COSMOS_PORT"
  check_port cosmos "$COSMOS_PORT" "$COSMOS_MARKER"
  check_port azurite "$AZURITE_PORT" "$AZURITE_MARKER"

  launch cosmos "$COSMOS_PORT" "$COSMOS_MARKER" \
    env NODE_PATH="$COSMOS_DIR/node_modules" node "$COSMOS_SCRIPT" -p "$COSMOS_PORT" --host 127.0.0.1 --no-ssl

  launch azurite "$AZURITE_PORT" "$AZURITE_MARKER" \
    node "$AZURITE_DIR/node_modules/.bin/azurite-blob" \
    --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" \
    --inMemoryPersistence --skipApiVersionCheck --disableTelemetry

  # Cosmos answers GET / with 200 (account properties); Azurite answers any request
  # (GET / is a 400 "invalid query parameter"), which is enough to know it listens.
  if ! wait_ready cosmos "$COSMOS_PORT" "$COSMOS_MARKER" '200' ||
    ! wait_ready azurite "$AZURITE_PORT" "$AZURITE_MARKER" '[1-5][0-9][0-9]'; then
    cmd_stop
    die "emulators did not start (logs in $RUN_DIR); both stopped"
  fi
  log "both ready in $(since_ms "$T0") ms: cosmos http://127.0.0.1:$COSMOS_PORT/, azurite http://127.0.0.1:$AZURITE_PORT/devstoreaccount1"
}

# halt NAME PORT MARKER: stop our emulator if it runs (TERM, then KILL after 10 s).
halt() {
  local name=$1 port=$2 marker=$3 pid
  if ! pid=$(running_pid "$name" "$port" "$marker"); then
    rm -f "$(pid_file "$name" "$port")"
    log "$name (port $port) not running"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$name" "$port")"
  log "$name (port $port, pid $pid) stopped"
}

cmd_stop() {
  halt cosmos "$COSMOS_PORT" "$COSMOS_MARKER"
  halt azurite "$AZURITE_PORT" "$AZURITE_MARKER"
}

cmd_status() {
  local rc=0 name port marker pid
  for name in cosmos azurite; do
    if [[ $name == cosmos ]]; then port=$COSMOS_PORT marker=$COSMOS_MARKER; else port=$AZURITE_PORT marker=$AZURITE_MARKER; fi
    if pid=$(running_pid "$name" "$port" "$marker"); then
      echo "$name: running on 127.0.0.1:$port (pid $pid), GET / -> $(http_status "$port" /)"
    else
      echo "$name: not running (port $port)"
      rc=1
    fi
  done
  return $rc
}

cmd_logs() {
  local n=${1:-40} f
  for f in "$(log_file cosmos "$COSMOS_PORT")" "$(log_file azurite "$AZURITE_PORT")"; do
    echo "----- $f"
    if [[ -f $f ]]; then tail -n "$n" "$f"; else echo "(no log)"; fi
  done
}

cmd_env() {
  echo "export POPSELL_TEST_COSMOS_ENDPOINT=http://127.0.0.1:$COSMOS_PORT/"
  echo "export POPSELL_TEST_AZURITE_CONNECTION_STRING='DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_ACCOUNT_KEY;BlobEndpoint=http://127.0.0.1:$AZURITE_PORT/devstoreaccount1;'"
}

usage() {
  sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) cmd_logs "${2:-40}" ;;
  env) cmd_env ;;
  *) usage ;;
esac
