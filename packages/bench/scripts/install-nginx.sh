#!/bin/sh
# Installs nginx from Debian's apt for the benchmarks (the nginx contestant runs its own instance
# with its own config, as the current user). Idempotent; one progress line per step on stderr.
# The package's postinst starts the nginx service through invoke-rc.d; a policy-rc.d that exits 101
# ("action forbidden", see invoke-rc.d(8)) stops that, so no service is left running behind us.
set -eu

say() { echo "install-nginx: $*" >&2; }

for bin in "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx; do
  if [ -n "$bin" ] && [ -x "$bin" ]; then
    say "already installed: $("$bin" -v 2>&1)"
    exit 0
  fi
done
if [ "$(id -u)" != 0 ]; then say "needs root (apt-get install nginx); not installing"; exit 1; fi
if ! command -v apt-get >/dev/null 2>&1; then say "no apt-get on this machine; not installing"; exit 1; fi

export DEBIAN_FRONTEND=noninteractive
LOG=$(mktemp /tmp/install-nginx.XXXXXX.log)
POLICY=/usr/sbin/policy-rc.d
made_policy=
cleanup() {
  if [ -n "$made_policy" ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT INT TERM
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod 755 "$POLICY"
  made_policy=1
  say "service starts blocked for the install ($POLICY, removed after)"
fi

# The smallest package with proxy_pass: on bookworm and later `nginx` is the server itself and
# nginx-light only adds modules to it; on older releases nginx-light is a real, smaller flavour.
pick() {
  if apt-cache show nginx-light >/dev/null 2>&1 && ! apt-cache depends nginx-light 2>/dev/null | grep -q 'Depends: nginx$'; then
    echo nginx-light
  elif apt-cache show nginx >/dev/null 2>&1; then
    echo nginx
  fi
}
install() {
  pkg=$(pick)
  [ -n "$pkg" ] || return 1
  say "apt-get install $pkg (log: $LOG)"
  apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=120 "$pkg" >>"$LOG" 2>&1
}

if ! install; then
  # Only refresh the package lists when the install needs it: it is the slow step.
  say "apt-get update (the install failed without it)"
  apt-get update -q -o DPkg::Lock::Timeout=120 >>"$LOG" 2>&1
  install || { say "install failed; see $LOG"; exit 1; }
fi

# Belt and braces: if an init system started it anyway, stop it.
if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
  say "stopping the nginx service the package started"
  /usr/sbin/nginx -s quit 2>/dev/null || kill "$(cat /run/nginx.pid)"
fi
say "done: $(/usr/sbin/nginx -v 2>&1)"
rm -f "$LOG"
