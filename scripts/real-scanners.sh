#!/usr/bin/env bash
# Installs the real scanner servers used by test/real and the clamd benchmarks (Debian packages).
# The tests start their own clamd / c-icap instances with private configs on unix sockets or
# 127.0.0.1 and stop them by PID, so nothing here starts a daemon.
#   bash scripts/real-scanners.sh install    # idempotent; quick when already installed
set -euo pipefail

pkgs=(clamav-daemon clamdscan c-icap libc-icap-mod-virus-scan)

install() {
  bash "$(dirname "$0")/apt-install.sh" real-scanners "${pkgs[@]}"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
