#!/usr/bin/env bash
# Makes the tests that need a real Redis (the limit store across replicas) runnable on a fresh
# machine: installs Debian's `redis-server` from apt when it is missing (apt-get update only then).
# Tests start their own redis-server on a free port in a temp folder (packages/test-support's
# startRedis), so the package's own service is not started (lib/apt-install.sh), and is stopped
# should an init system start it anyway. Prints the binary's path as its last stdout line.
#
# Environment: MCPGW_REDIS_SERVER, a redis-server to use instead (nothing is installed then);
# MCPGW_CACHE_DIR (default /var/cache/mcpgw) keeps apt's log.
set -euo pipefail

CACHE_DIR=${MCPGW_CACHE_DIR:-/var/cache/mcpgw}
say() { printf '[redis-tools] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

if [[ -n ${MCPGW_REDIS_SERVER:-} ]]; then
  [[ -x $MCPGW_REDIS_SERVER ]] || die "MCPGW_REDIS_SERVER=$MCPGW_REDIS_SERVER is not an executable"
  echo "$MCPGW_REDIS_SERVER"
  exit 0
fi

find_redis() { command -v redis-server || { [[ -x /usr/bin/redis-server ]] && echo /usr/bin/redis-server; } || true; }

REDIS=$(find_redis)
if [[ -z $REDIS ]]; then
  [[ $(id -u) -eq 0 ]] || die "redis-server is not installed, and installing it needs root: apt-get install -y redis-server (or set MCPGW_REDIS_SERVER)"
  say "installing redis-server from apt (a few MB, seconds)"
  apt_install apt-redis redis-server
  REDIS=$(find_redis)
  [[ -n $REDIS ]] || die "apt installed redis-server but no redis-server command is on PATH"
  # Belt and braces: lib/apt-install.sh forbade the start of the package's service (port 6379); if
  # it happened anyway, stop it, and under systemd keep it from starting at boot.
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now redis-server >/dev/null 2>&1 || true
  else
    service redis-server stop >/dev/null 2>&1 || true
  fi
fi

say "redis: $REDIS ($("$REDIS" --version 2>/dev/null | head -n1 || echo 'version unknown'))"
echo "$REDIS"
