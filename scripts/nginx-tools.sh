#!/usr/bin/env bash
# Makes what needs nginx runnable on a fresh machine (the replicas test, behind
# deploy/replicas/nginx.conf; the bench's nginx contestant): installs Debian's `nginx` from apt when
# it is missing (apt-get update only then). Each runs its own nginx with its own config in a temp
# folder, so the package's own service is not started (lib/apt-install.sh), and is stopped should an
# init system start it anyway. Prints the nginx binary's path as its last stdout line.
#
# Environment: MCPGW_NGINX, an nginx to use instead (nothing is installed then);
# MCPGW_CACHE_DIR (default /var/cache/mcpgw) keeps apt's log.
set -euo pipefail

CACHE_DIR=${MCPGW_CACHE_DIR:-/var/cache/mcpgw}
say() { printf '[nginx-tools] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

if [[ -n ${MCPGW_NGINX:-} ]]; then
  [[ -x $MCPGW_NGINX ]] || die "MCPGW_NGINX=$MCPGW_NGINX is not an executable"
  echo "$MCPGW_NGINX"
  exit 0
fi

find_nginx() { command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true; }

NGINX=$(find_nginx)
if [[ -z $NGINX ]]; then
  [[ $(id -u) -eq 0 ]] || die "nginx is not installed, and installing it needs root: apt-get install -y nginx (or set MCPGW_NGINX)"
  say "installing nginx from apt (a few MB, seconds)"
  apt_install apt-nginx nginx
  NGINX=$(find_nginx)
  [[ -n $NGINX ]] || die "apt installed nginx but no nginx command is found"
  # Belt and braces: lib/apt-install.sh forbade the start of the package's service (port 80); if it
  # happened anyway, stop it, and under systemd keep it from starting at boot.
  if [[ -d /run/systemd/system ]]; then
    systemctl disable --now nginx >/dev/null 2>&1 || true
  else
    service nginx stop >/dev/null 2>&1 || true
  fi
  if [[ -f /run/nginx.pid ]]; then kill "$(cat /run/nginx.pid)" 2>/dev/null || true; fi
fi

say "nginx: $NGINX ($("$NGINX" -v 2>&1 | head -n1))"
echo "$NGINX"
