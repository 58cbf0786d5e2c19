#!/usr/bin/env bash
# Makes the terminal test of `openai-gateway chat` (packages/openai-gateway/test/chat-cli.test.ts)
# runnable on a fresh machine: installs Debian's `tmux` from apt when it is missing (apt-get update
# only then). The test runs the chat in a tmux pane, a real terminal it can type into and read back.
# Prints tmux's path as its last stdout line.
#
# Environment: MCPGW_CACHE_DIR (default /var/cache/mcpgw) keeps apt's log.
set -euo pipefail

CACHE_DIR=${MCPGW_CACHE_DIR:-/var/cache/mcpgw}
say() { printf '[terminal-tools] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

TMUX_BIN=$(command_or_apt tmux tmux)
say "tmux: $TMUX_BIN ($("$TMUX_BIN" -V))"
echo "$TMUX_BIN"
