#!/usr/bin/env bash
# Headless Chromium and axe-core for the page checks (functions/browser_test.go) and
# `make screenshots`.
#
#   tools/browser.sh install   # Debian's chromium (apt-get, as root) unless present; axe-core, pinned, into the npm cache
#   tools/browser.sh env       # print the exports the tests read (internal/testenv)
#   tools/browser.sh status    # tell what is installed
#
# Typical use:
#   tools/browser.sh install && eval "$(tools/browser.sh env)" && go test -run TestPagesInABrowser ./functions/
#
# Settings (environment):
#   POPSELL_TOOLS_CACHE   npm install folder, default $HOME/.cache/popsell-gdpr/npm (shared with emulators.sh)
#   POPSELL_CHROMIUM      the browser to drive, default: chromium on PATH, else /usr/bin/chromium
#
# Chromium comes from Debian's packages, never a browser build of its own: nothing else
# can be fetched here (no puppeteer or playwright download).
set -euo pipefail

AXE_PKG=axe-core
AXE_VERSION=4.14.1

CACHE_DIR=${POPSELL_TOOLS_CACHE:-$HOME/.cache/popsell-gdpr/npm}
AXE_DIR=$CACHE_DIR/axe-core-$AXE_VERSION
AXE_SCRIPT=$AXE_DIR/node_modules/axe-core/axe.min.js

TOOLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf 'browser: %s\n' "$*" >&2; }
die() { printf 'browser: ERROR: %s\n' "$*" >&2; exit 1; }

# shellcheck source=tools/npm-cache.sh
source "$TOOLS_DIR/npm-cache.sh"

# chromium_path: print the browser to drive, or nothing when none is installed.
chromium_path() {
  if [[ -n ${POPSELL_CHROMIUM:-} ]]; then
    echo "$POPSELL_CHROMIUM"
  elif command -v chromium >/dev/null 2>&1; then
    command -v chromium
  elif [[ -x /usr/bin/chromium ]]; then
    echo /usr/bin/chromium
  fi
}

cmd_install() {
  if [[ -z $(chromium_path) ]]; then
    [[ $(id -u) == 0 ]] || die "chromium is not installed; as root: apt-get install chromium"
    log "installing Debian's chromium with apt-get ..."
    local t0=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null >/dev/null
    apt-get install -y -q --no-install-recommends chromium </dev/null >/dev/null
    log "installed chromium in $((SECONDS - t0))s"
  fi
  log "$("$(chromium_path)" --version 2>/dev/null)"
  command -v node >/dev/null 2>&1 || die "node is not installed (npm installs axe-core)"
  mkdir -p "$CACHE_DIR"
  npm_install "$AXE_DIR" "$AXE_PKG" "$AXE_VERSION"
}

cmd_env() {
  local chromium
  chromium=$(chromium_path)
  [[ -n $chromium ]] || die "chromium is not installed; run: tools/browser.sh install"
  [[ -f $AXE_SCRIPT ]] || die "axe-core $AXE_VERSION is not installed; run: tools/browser.sh install"
  printf 'export POPSELL_TEST_CHROMIUM=%q\n' "$chromium"
  printf 'export POPSELL_TEST_AXE=%q\n' "$AXE_SCRIPT"
}

cmd_status() {
  local rc=0 chromium
  chromium=$(chromium_path)
  if [[ -n $chromium ]]; then echo "chromium: $chromium"; else echo "chromium: not installed"; rc=1; fi
  if [[ -f $AXE_SCRIPT ]]; then echo "axe-core: $AXE_SCRIPT"; else echo "axe-core $AXE_VERSION: not installed"; rc=1; fi
  return $rc
}

usage() {
  sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case ${1:-} in
  install) cmd_install ;;
  env) cmd_env ;;
  status) cmd_status ;;
  *) usage ;;
esac
