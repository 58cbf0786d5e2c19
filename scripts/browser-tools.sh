#!/usr/bin/env bash
# Makes the browser test of the tools docs pages (packages/release-tests/test/docs-browser.test.ts)
# runnable on a fresh machine: installs Debian's `chromium` from apt when it is missing (apt-get
# update only then). playwright-core drives it; Playwright's own browser download is not used (it
# needs a CDN this machine cannot reach, and apt's build is the one the distribution keeps patched).
# Prints the browser's path as its last stdout line.
#
# Environment: MCPGW_CHROMIUM, a browser to use instead (nothing is installed then);
# MCPGW_CACHE_DIR (default /var/cache/mcpgw) keeps apt's log.
set -euo pipefail

CACHE_DIR=${MCPGW_CACHE_DIR:-/var/cache/mcpgw}
say() { printf '[browser-tools] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

if [[ -n ${MCPGW_CHROMIUM:-} ]]; then
  [[ -x $MCPGW_CHROMIUM ]] || die "MCPGW_CHROMIUM=$MCPGW_CHROMIUM is not an executable"
  echo "$MCPGW_CHROMIUM"
  exit 0
fi

find_browser() { command -v chromium || command -v chromium-browser || true; }

BROWSER=$(find_browser)
if [[ -z $BROWSER ]]; then
  [[ $(id -u) -eq 0 ]] || die "chromium is not installed, and installing it needs root: apt-get install -y chromium (or set MCPGW_CHROMIUM)"
  say "installing chromium from apt (about 80 MB, a minute or two)"
  # fonts-liberation: without any font the page renders boxes (the test reads text, a user looks).
  apt_install apt-chromium chromium fonts-liberation
  BROWSER=$(find_browser)
  [[ -n $BROWSER ]] || die "apt installed chromium but no chromium command is on PATH"
fi

say "browser: $BROWSER ($("$BROWSER" --version 2>/dev/null || echo 'version unknown'))"
echo "$BROWSER"
