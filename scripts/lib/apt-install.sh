# Sourced by the *-tools.sh scripts, which define say, die and CACHE_DIR first.
# apt_install LOG PACKAGE...: installs Debian packages from apt (apt-get update first, so only when
# something is missing), quietly: apt's output goes to $CACHE_DIR/LOG.log, and its last 30 lines to
# stderr if it fails. Needs root; the caller says what to do otherwise.
apt_install() {
  local log="$CACHE_DIR/$1.log"
  shift
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$CACHE_DIR"
  { apt-get update && apt-get install -y --no-install-recommends "$@"; } >"$log" 2>&1 ||
    { tail -n 30 "$log" >&2; die "apt-get failed (full log: $log)"; }
}
