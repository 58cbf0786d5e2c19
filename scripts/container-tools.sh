#!/usr/bin/env bash
# Makes the container smoke test (packages/release-tests/test/containers.test.ts) runnable on a
# machine without a Docker engine and without an image registry:
#   1. installs podman (+ runc, debootstrap) from apt when missing (apt-get update only then);
#   2. builds a local stand-in for the Dockerfile's base image (the official Node image cannot be
#      pulled here): Debian bookworm minbase from the mirror apt already uses, plus the Node binary
#      of the root `node` devDependency and npm, laid out as in the official image (node and npm in
#      /usr/local, a `node` user with uid/gid 1000), imported and tagged with the FROM name.
# Skips each step that is already done: an existing image of that name is kept, whatever it is
# (a real pulled image wins). Prints the image name as its last stdout line.
#
# Environment: MCPGW_CACHE_DIR (default /var/cache/mcpgw) keeps the debootstrap tree between runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_DIR=${MCPGW_CACHE_DIR:-/var/cache/mcpgw}
say() { printf '[container-tools] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# shellcheck source=lib/apt-install.sh
source "$ROOT/scripts/lib/apt-install.sh"

# The base image is the first FROM of the Dockerfile (every other stage builds on it).
IMAGE=$(awk 'toupper($1) == "FROM" { print $2; exit }' "$ROOT/Dockerfile")
[[ -n $IMAGE ]] || die "no FROM line in $ROOT/Dockerfile"
# Docker's normal form of a short name (node:24 is docker.io/library/node:24): `podman import`
# would otherwise file it under localhost/, where a FROM line does not look.
case $IMAGE in
  */*/*) ;;
  */*) [[ ${IMAGE%%/*} == *[.:]* || ${IMAGE%%/*} == localhost ]] || IMAGE="docker.io/$IMAGE" ;;
  *) IMAGE="docker.io/library/$IMAGE" ;;
esac

# --- 1. tools -----------------------------------------------------------------------------------
# debootstrap and friends live in sbin, which a non-login PATH may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
PACKAGES=(podman runc debootstrap fuse-overlayfs slirp4netns uidmap netavark aardvark-dns iptables)

# Installs the container tools from apt unless every command named is already there.
need() {
  local missing=() cmd
  for cmd in "$@"; do command -v "$cmd" >/dev/null || missing+=("$cmd"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) -eq 0 ]] || die "${missing[*]} not installed, and installing needs root: apt-get install -y ${PACKAGES[*]}"
  say "installing ${missing[*]} (apt: ${PACKAGES[*]})"
  apt_install apt "${PACKAGES[@]}"
}

# runc: crun, podman's default runtime, fails on setrlimit on this kind of machine.
need podman runc

# --- 2. base image stand-in ---------------------------------------------------------------------
NODE_BIN="$ROOT/node_modules/node/bin/node"
[[ -x $NODE_BIN ]] || die "$NODE_BIN is missing: run 'npm ci' in $ROOT first (the root devDependency 'node' provides it)"
NODE_VERSION=$("$NODE_BIN" --version)
LABEL=mcpgw.base-stand-in

if podman image exists "$IMAGE"; then
  have=$(podman image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$IMAGE" 2>/dev/null || true)
  if [[ -z $have || $have == "<no value>" || $have == "$NODE_VERSION" ]]; then
    say "base image $IMAGE present${have:+ (stand-in, node $have)}; nothing to do"
    echo "$IMAGE"
    exit 0
  fi
  say "base image $IMAGE is a stand-in with node $have, the repository has $NODE_VERSION: rebuilding it"
fi

[[ $(id -u) -eq 0 ]] || die "$IMAGE is not in podman's image store, and building its stand-in needs root (debootstrap, chroot)"
need debootstrap

# The Debian mirror the machine's apt sources already name (deb822 URIs: or one-line deb).
MIRROR=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i } /^deb / { print ($2 ~ /^\[/ ? $3 : $2) }' |
  grep -E '/debian/?$' | head -n1 || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

MINBASE="$CACHE_DIR/bookworm-minbase"
if [[ ! -f $MINBASE/.complete ]]; then
  say "debootstrap --variant=minbase bookworm from $MIRROR into $MINBASE (about a minute)"
  rm -rf "$MINBASE"
  mkdir -p "$CACHE_DIR"
  debootstrap --variant=minbase bookworm "$MINBASE" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 ||
    { tail -n 30 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (full log: $CACHE_DIR/debootstrap.log)"; }
  # Like debian:bookworm-slim: no package caches or lists in the image.
  rm -rf "$MINBASE"/var/cache/apt/archives/*.deb "$MINBASE"/var/lib/apt/lists/*
  touch "$MINBASE/.complete"
else
  say "using the cached debootstrap tree $MINBASE"
fi

# Node and npm go into a copy, so the cached tree stays plain Debian.
ROOTFS=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
trap 'rm -rf "$ROOTFS"' EXIT
cp -a "$MINBASE/." "$ROOTFS/"
rm -f "$ROOTFS/.complete"

say "adding node $NODE_VERSION and npm under /usr/local, user node (1000:1000)"
install -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
NPM_DIR=""
for d in "$ROOT/node_modules/npm" /usr/lib/node_modules/npm /usr/local/lib/node_modules/npm; do
  if [[ -f $d/bin/npm-cli.js ]]; then NPM_DIR=$d; break; fi
done
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
if [[ -n $NPM_DIR ]]; then
  cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
else
  say "no npm on this machine to copy: fetching npm@11 from the registry"
  tarball=$(cd "$ROOTFS/usr/local/lib/node_modules" && "$NODE_BIN" "$(command -v npm)" pack npm@11 --silent)
  mkdir "$ROOTFS/usr/local/lib/node_modules/npm"
  tar -xzf "$ROOTFS/usr/local/lib/node_modules/$tarball" --strip-components=1 -C "$ROOTFS/usr/local/lib/node_modules/npm"
  rm "$ROOTFS/usr/local/lib/node_modules/$tarball"
fi
# A machine-specific builtin config (system paths, CA files) must not travel into the image.
rm -f "$ROOTFS/usr/local/lib/node_modules/npm/npmrc"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
chroot "$ROOTFS" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
chroot "$ROOTFS" /usr/local/bin/node --version >/dev/null || die "node does not run inside the stand-in"

say "importing the tree as $IMAGE"
podman rmi --force "$IMAGE" >/dev/null 2>&1 || true
tar --numeric-owner -C "$ROOTFS" -c . |
  podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV NODE_VERSION=${NODE_VERSION#v}" \
    --change 'CMD ["node"]' \
    --change "LABEL $LABEL=$NODE_VERSION" \
    - "$IMAGE" >&2
say "base image $IMAGE ready ($(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
echo "$IMAGE"
