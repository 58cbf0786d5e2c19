#!/usr/bin/env bash
# Makes what needs openssl runnable on a fresh machine (the bench's HTTPS upstream, whose private
# CA and server certificate are made at run time): installs Debian's `openssl` from apt when it is
# missing (apt-get update only then; the package is "optional" in Debian, so a slim image may lack
# it). Prints the openssl binary's path as its last stdout line.
#
# Environment: MCPGW_OPENSSL, an openssl to use instead (nothing is installed then);
# MCPGW_CACHE_DIR (default /var/cache/mcpgw) keeps apt's log.
set -euo pipefail

CACHE_DIR=${MCPGW_CACHE_DIR:-/var/cache/mcpgw}
say() { printf '[openssl-tools] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

if [[ -n ${MCPGW_OPENSSL:-} ]]; then
  [[ -x $MCPGW_OPENSSL ]] || die "MCPGW_OPENSSL=$MCPGW_OPENSSL is not an executable"
  echo "$MCPGW_OPENSSL"
  exit 0
fi

OPENSSL=$(command_or_apt openssl openssl "or set MCPGW_OPENSSL")
say "openssl: $OPENSSL ($("$OPENSSL" version))"
echo "$OPENSSL"
