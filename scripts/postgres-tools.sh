#!/usr/bin/env bash
# Makes the tests that need a real PostgreSQL (usage records shared by replicas) runnable on a fresh
# machine: installs Debian's `postgresql` from apt when its server binaries are missing (apt-get
# update only then). Tests run their own server in a temp folder on a free port (packages/
# test-support's startPostgres), so the package's own cluster is not started (lib/apt-install.sh),
# and is stopped should an init system start it anyway. Prints the directory of the server
# binaries (initdb, postgres, pg_isready), which Debian keeps off PATH, as its last stdout line.
#
# Environment: MCPGW_POSTGRES_BIN, such a directory to use instead (nothing is installed then);
# MCPGW_CACHE_DIR (default /var/cache/mcpgw) keeps apt's log.
set -euo pipefail

CACHE_DIR=${MCPGW_CACHE_DIR:-/var/cache/mcpgw}
say() { printf '[postgres-tools] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

if [[ -n ${MCPGW_POSTGRES_BIN:-} ]]; then
  [[ -x $MCPGW_POSTGRES_BIN/postgres && -x $MCPGW_POSTGRES_BIN/initdb && -x $MCPGW_POSTGRES_BIN/pg_isready ]] ||
    die "MCPGW_POSTGRES_BIN=$MCPGW_POSTGRES_BIN lacks one of postgres, initdb, pg_isready"
  echo "$MCPGW_POSTGRES_BIN"
  exit 0
fi

# The server binaries of the newest version that has them (a version may have only its client,
# psql and pg_isready, installed: that one is passed over).
find_bin() {
  local dir
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV); do
    if [[ -x $dir/postgres && -x $dir/initdb && -x $dir/pg_isready ]]; then
      echo "$dir"
      return
    fi
  done
}

BIN=$(find_bin)
if [[ -z $BIN ]]; then
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed, and installing it needs root: apt-get install -y postgresql (or set MCPGW_POSTGRES_BIN)"
  say "installing postgresql from apt (about 50 MB, a minute)"
  apt_install apt-postgresql postgresql
  BIN=$(find_bin)
  [[ -n $BIN ]] || die "apt installed postgresql but no server binaries are under /usr/lib/postgresql/*/bin"
  # Belt and braces: lib/apt-install.sh forbade the start of the package's cluster (main, port
  # 5432); if it happened anyway, stop it. The tests use their own only.
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true; done
  fi
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now postgresql >/dev/null 2>&1 || true
  else
    service postgresql stop >/dev/null 2>&1 || true
  fi
fi

say "postgres: $BIN ($("$BIN/postgres" --version 2>/dev/null || echo 'version unknown'))"
echo "$BIN"
