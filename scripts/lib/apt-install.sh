# Sourced by the *-tools.sh scripts, which define say, die and CACHE_DIR first.
#
# command_or_apt COMMAND PACKAGE [HINT]: the path of COMMAND, installed from PACKAGE with apt_install
# when it is not on PATH (as root only; otherwise die says to install it, and HINT, e.g. another way).
command_or_apt() {
  local cmd=$1 pkg=$2 hint=${3:+ ($3)} found
  found=$(command -v "$cmd" || true)
  if [[ -z $found ]]; then
    [[ $(id -u) -eq 0 ]] || die "$cmd is not installed, and installing it needs root: apt-get install -y $pkg$hint"
    say "installing $pkg from apt"
    apt_install "apt-$pkg" "$pkg"
    found=$(command -v "$cmd" || true)
    [[ -n $found ]] || die "apt installed $pkg but no $cmd command is on PATH"
  fi
  echo "$found"
}

# apt_install LOG PACKAGE...: installs Debian packages from apt (apt-get update first, so only when
# something is missing), quietly: apt's output goes to $CACHE_DIR/LOG.log, and its last 30 lines to
# stderr if it fails. Needs root; the caller says what to do otherwise.
#
# A package's own service (redis-server, postgresql, nginx) is not started: a policy-rc.d that
# exits 101 ("action forbidden", see invoke-rc.d(8)) is in place for the install and removed after
# (one that is there already, as in Docker images, is left as it is). Tests and the bench run their
# own instances on free ports; nothing is left listening behind them.
apt_install() {
  local log="$CACHE_DIR/$1.log"
  shift
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$CACHE_DIR"
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  local status=0
  { apt-get update && apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=120 "$@"; } >"$log" 2>&1 || status=$?
  if [[ -n $made_policy ]]; then rm -f "$policy"; fi
  if [[ $status -ne 0 ]]; then
    tail -n 30 "$log" >&2
    die "apt-get failed (full log: $log)"
  fi
}
